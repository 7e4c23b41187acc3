package testenv

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/touchpoint/touchpoint/internal/interaction"
)

// ErrBroken is BrokenReader's error: the kind of detail (a path, a cause)
// no client may see.
var ErrBroken = errors.New("disk on fire at /var/lib/touchpoint")

// BrokenReader is a store whose customer lookups fail with ErrBroken, an
// internal error: for the tests of what one answers and logs.
type BrokenReader struct{ interaction.Reader }

func (BrokenReader) CustomersByIdentifier(context.Context, interaction.OrgID, interaction.IdentifierKind, []string) ([]interaction.Customer, error) {
	return nil, ErrBroken
}

// CheckInternalErrorLog fails t unless logs (JSON, slog's) is one line
// with message msg, the request id requestID and ErrBroken as its err: an
// internal error is logged with the id its client was given.
func CheckInternalErrorLog(t testing.TB, logs []byte, msg, requestID string) {
	t.Helper()
	var line struct {
		Msg       string `json:"msg"`
		RequestID string `json:"request_id"`
		Err       string `json:"err"`
	}
	if err := json.Unmarshal(logs, &line); err != nil {
		t.Fatalf("log %q: %v", logs, err)
	}
	if line.Msg != msg || line.RequestID != requestID || !strings.Contains(line.Err, ErrBroken.Error()) {
		t.Errorf("logged %+v, want %q with request_id %s and err %q", line, msg, requestID, ErrBroken)
	}
}
