package bot

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
)

// ErrBadButton says a button value was not made by this bot (forged,
// altered, or signed with a key since rotated).
var ErrBadButton = errors.New("button value is not signed by this bot")

// buttonPrefix versions the format of button values.
const buttonPrefix = "b1."

// buttonMACLen is the length of the truncated HMAC-SHA256 (128 bits).
const buttonMACLen = 16

// Signer signs and checks button values. The key must stay the same across
// restarts and replicas (cmd keeps it in the data directory or the
// configuration) so that buttons keep working.
type Signer struct{ key []byte }

// NewSigner returns a Signer; key must have at least 32 bytes.
func NewSigner(key []byte) (*Signer, error) {
	if len(key) < 32 {
		return nil, errors.New("button signing key: need at least 32 bytes")
	}
	return &Signer{key: append([]byte(nil), key...)}, nil
}

// Sign returns the opaque value for payload: "b1." then the payload and a
// 128-bit HMAC-SHA256 tag, both base64url. A 40-character command gives an
// 80-character value.
func (s *Signer) Sign(payload string) string { return s.sign(buttonPrefix, payload) }

// Verify returns the payload of a value made by Sign with the same key.
func (s *Signer) Verify(value string) (string, error) {
	p, ok := s.verify(buttonPrefix, value)
	if !ok {
		return "", ErrBadButton
	}
	return p, nil
}

// sign makes a value of the kind prefix names ("b1." buttons, "f1." form
// states). The prefix is part of what the tag covers, so a value of one
// kind never passes for another.
func (s *Signer) sign(prefix, payload string) string {
	p := base64.RawURLEncoding.EncodeToString([]byte(payload))
	return prefix + p + "." + base64.RawURLEncoding.EncodeToString(s.mac(prefix, p))
}

// verify returns the payload of a value made by sign with prefix.
func (s *Signer) verify(prefix, value string) (string, bool) {
	rest, ok := strings.CutPrefix(value, prefix)
	if !ok {
		return "", false
	}
	p, tag, ok := strings.Cut(rest, ".")
	if !ok {
		return "", false
	}
	got, err := base64.RawURLEncoding.DecodeString(tag)
	if err != nil || !hmac.Equal(got, s.mac(prefix, p)) {
		return "", false
	}
	payload, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return "", false
	}
	return string(payload), true
}

func (s *Signer) mac(prefix, p string) []byte {
	h := hmac.New(sha256.New, s.key)
	h.Write([]byte(prefix))
	h.Write([]byte(p))
	return h.Sum(nil)[:buttonMACLen]
}
