package bot

import (
	"errors"
	"strings"
	"testing"
)

func TestSigner(t *testing.T) {
	s, err := NewSigner([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewSigner([]byte(strings.Repeat("x", 32)))
	v := s.Sign("who-owns component:default/payments-api")
	if len(v) > 100 {
		t.Errorf("value is %d characters; Discord custom_id allows 100", len(v))
	}
	got, err := s.Verify(v)
	if err != nil || got != "who-owns component:default/payments-api" {
		t.Fatalf("Verify = %q, %v", got, err)
	}
	// Flip each character of the payload and tag in turn: all must fail.
	for i := len("b1."); i < len(v); i++ {
		if v[i] == '.' {
			continue
		}
		c := byte('A')
		if v[i] == 'A' {
			c = 'B'
		}
		forged := v[:i] + string(c) + v[i+1:]
		if _, err := s.Verify(forged); !errors.Is(err, ErrBadButton) {
			t.Fatalf("altered value %q verified (err %v)", forged, err)
		}
	}
	for _, bad := range []string{"", "b1.", "b1.x", "b2." + v[3:], "who-owns x"} {
		if _, err := s.Verify(bad); !errors.Is(err, ErrBadButton) {
			t.Errorf("Verify(%q) err = %v, want ErrBadButton", bad, err)
		}
	}
	if _, err := other.Verify(v); !errors.Is(err, ErrBadButton) {
		t.Errorf("value verified under another key")
	}
	if _, err := NewSigner([]byte("short")); err == nil {
		t.Error("a short key was accepted")
	}
}
