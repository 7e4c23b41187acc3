// Runs the graphql-http package's server audit (the GraphQL-over-HTTP
// spec's MUST/SHOULD/MAY checks, written by graphql-http's authors)
// against a running Touchpoint and prints the results as JSON lines.
//
//   node audit.mjs URL KEY:SECRET
//
// The audit's requests carry the key as HTTP Basic credentials, as every
// Touchpoint API request must.
import { serverAudits } from "graphql-http";

const [url, credentials] = process.argv.slice(2);
const auth = "Basic " + Buffer.from(credentials).toString("base64");
const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers || {});
  headers.set("Authorization", auth);
  return fetch(input, { ...init, headers });
};

for (const audit of serverAudits({ url, fetchFn })) {
  let result;
  try {
    result = await audit.fn();
  } catch (err) {
    result = { status: "error", reason: String(err) };
  }
  console.log(JSON.stringify({ id: audit.id, name: audit.name, status: result.status, reason: result.reason }));
}
