package postgres

import (
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/touchpoint/touchpoint/internal/interaction"
)

// TestVersionReadsAreSharedAfterArrival: requests arriving while their
// organisation's version is being read share the next read, which starts
// after them (never the running one, which may have read before their
// commit); other organisations' reads do not wait.
func TestVersionReadsAreSharedAfterArrival(t *testing.T) {
	var vr versionReads
	started := make(chan interaction.OrgID, 16)
	release := make(chan struct{})
	var reads atomic.Int64
	read := func(org interaction.OrgID) (interaction.DataVersion, error) {
		started <- org
		<-release
		return interaction.DataVersion{Version: reads.Add(1)}, nil
	}
	first := vr.join(1, read)
	if org := <-started; org != 1 {
		t.Fatalf("started a read of %d", org)
	}
	var waiting []*versionRead
	for range 5 {
		waiting = append(waiting, vr.join(1, read))
	}
	for _, r := range waiting {
		if r == first || r != waiting[0] {
			t.Fatal("a request arriving during a read joined it, or not the same next read as the others")
		}
	}
	other := vr.join(2, read)
	if org := <-started; org != 2 {
		t.Fatalf("organisation 2's read did not start beside 1's (started %d)", org)
	}
	close(release)
	<-first.done
	<-waiting[0].done
	<-other.done
	if first.v.Version == waiting[0].v.Version {
		t.Errorf("the joiners got the running read's answer (%d)", first.v.Version)
	}
	if n := reads.Load(); n != 3 {
		t.Errorf("%d reads for 7 requests over 2 organisations, want 3", n)
	}
	vr.mu.Lock()
	left := len(vr.byOrg)
	vr.mu.Unlock()
	for left != 0 { // the runners forget an organisation once nobody waits
		runtime.Gosched()
		vr.mu.Lock()
		left = len(vr.byOrg)
		vr.mu.Unlock()
	}
}
