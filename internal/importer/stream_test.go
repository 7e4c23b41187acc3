package importer_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/touchpoint/touchpoint/internal/demo"
	"github.com/touchpoint/touchpoint/internal/importer"
	"github.com/touchpoint/touchpoint/internal/interaction"
)

// TestRejectionInsideARun: the sink writes runs of messages in one
// statement; one bad message among them must cost only its own line.
func TestRejectionInsideARun(t *testing.T) {
	db, o := setup(t)
	var in strings.Builder
	in.WriteString(`{"record":"customer","id":1,"mobile":"91"}` + "\n")
	for i := range 40 {
		cust := 1
		if i == 19 {
			cust = 99 // line 21
		}
		fmt.Fprintf(&in, `{"record":"message","id":%d,"customer_id":%d,"network":"capillary","type":"sms","sent_at":"2025-01-01T00:00:%02dZ"}`+"\n", 100+i, cust, i)
	}
	rep, err := importer.Import(context.Background(), strings.NewReader(in.String()), db, o.ID, importer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Messages != 39 || rep.Rejected != 1 || rep.Rejections[0] != (interaction.Rejection{Line: 21, Reason: "unknown customer 99"}) {
		t.Fatalf("report = %+v", rep)
	}
	sums, _ := db.Summaries(context.Background(), o.ID, []int64{1}, interaction.Filter{})
	if len(sums) != 1 || sums[0].Count != 39 {
		t.Errorf("stored = %+v, want 39 sms", sums)
	}
}

// TestLaterLineWins: a record repeated in one file is an update.
func TestLaterLineWins(t *testing.T) {
	db, o := setup(t)
	in := `{"record":"customer","id":1,"mobile":"91"}
{"record":"customer","id":1,"mobile":"92","email":"x@y.z"}
`
	rep, err := importer.Import(context.Background(), strings.NewReader(in), db, o.ID, importer.Options{})
	if err != nil || rep.Rejected != 0 {
		t.Fatal(err, rep)
	}
	cs, _ := db.CustomersByIdentifier(context.Background(), o.ID, interaction.ByID, []string{"1"})
	if len(cs) != 1 || cs[0].Mobile != "92" || cs[0].Email != "x@y.z" {
		t.Errorf("customer = %+v", cs)
	}
}

// TestStream imports a demo file arriving through a pipe in odd-sized
// reads, as from stdin, with batches that end mid-customer.
func TestStream(t *testing.T) {
	db, o := setup(t)
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(demo.Write(pw, demo.Options{Customers: 500})) }()
	var progress bytes.Buffer
	rep, err := importer.Import(context.Background(), iotest.HalfReader(pr), db, o.ID, importer.Options{BatchSize: 777, Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	var whole bytes.Buffer
	if err := demo.Write(&whole, demo.Options{Customers: 500}); err != nil {
		t.Fatal(err)
	}
	lines := bytes.Count(whole.Bytes(), []byte("\n"))
	if rep.Rejected != 0 || rep.Accepted != lines || rep.Customers != 503 ||
		rep.Accepted != rep.Customers+rep.Messages+rep.MissedCalls+rep.Surveys {
		t.Errorf("report = %+v, want %d lines accepted", rep, lines)
	}
	if !strings.Contains(progress.String(), fmt.Sprintf("%d messages", rep.Messages)) {
		t.Errorf("summary = %q", progress.String())
	}
}

func TestReadErrorStops(t *testing.T) {
	db, o := setup(t)
	boom := errors.New("disk on fire")
	r := io.MultiReader(strings.NewReader(`{"record":"customer","id":1}`+"\n"), iotest.ErrReader(boom))
	_, err := importer.Import(context.Background(), r, db, o.ID, importer.Options{})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("err = %v, want the read error at line 2", err)
	}
}

func TestCancelled(t *testing.T) {
	db, o := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := importer.Import(ctx, strings.NewReader(`{"record":"customer","id":1}`+"\n"), db, o.ID, importer.Options{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if cs, _ := db.CustomersByIdentifier(context.Background(), o.ID, interaction.ByID, []string{"1"}); len(cs) != 0 {
		t.Errorf("cancelled import wrote %+v", cs)
	}
}
