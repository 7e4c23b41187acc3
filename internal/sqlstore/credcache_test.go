package sqlstore

import (
	"errors"
	"testing"

	"github.com/touchpoint/touchpoint/internal/interaction"
)

// TestCredentialCacheKeepsNoStaleRead: an entry is answered only under the
// version it was read under; a read that raced a change of version is
// never answered after it.
func TestCredentialCacheKeepsNoStaleRead(t *testing.T) {
	var c CredentialCache[int]
	if _, ok := c.Get("k", 1); ok {
		t.Fatal("an empty cache answered")
	}
	// A read begun under version 1 while version 2 arrives.
	c.Get("other", 2)
	c.Put("k", 1, Credential{})
	if _, ok := c.Get("k", 2); ok {
		t.Error("kept a read from before the change")
	}
	c.Put("k", 2, Credential{Key: interaction.APIKey{ID: "k"}})
	if e, ok := c.Get("k", 2); !ok || e.Key.ID != "k" {
		t.Errorf("a read under the current version: %+v %v", e, ok)
	}
	if _, ok := c.Get("k", 3); ok {
		t.Error("answered after the version moved on")
	}
}

// TestCredentialCacheLookup: keys and not-founds are kept, other errors
// are not.
func TestCredentialCacheLookup(t *testing.T) {
	var c CredentialCache[int]
	reads := 0
	lookup := func(id string, err error) error {
		_, _, got := c.Lookup(id, 1, func() (interaction.APIKey, interaction.Org, error) {
			reads++
			return interaction.APIKey{ID: id}, interaction.Org{}, err
		})
		return got
	}
	notFound := interaction.Errorf(interaction.KindNotFound, "no key")
	broken := errors.New("connection reset")
	c.Get("", 1) // version 1 is current
	for range 2 {
		lookup("known", nil)
		lookup("unknown", notFound)
		if err := lookup("failing", broken); !errors.Is(err, broken) {
			t.Errorf("failing lookup: %v", err)
		}
	}
	if reads != 4 {
		t.Errorf("%d reads for two rounds of a known, an unknown and a failing key, want 4", reads)
	}
}
