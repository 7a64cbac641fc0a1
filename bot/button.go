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
func (s *Signer) Sign(payload string) string {
	p := base64.RawURLEncoding.EncodeToString([]byte(payload))
	return buttonPrefix + p + "." + base64.RawURLEncoding.EncodeToString(s.mac(p))
}

// Verify returns the payload of a value made by Sign with the same key.
func (s *Signer) Verify(value string) (string, error) {
	rest, ok := strings.CutPrefix(value, buttonPrefix)
	if !ok {
		return "", ErrBadButton
	}
	p, tag, ok := strings.Cut(rest, ".")
	if !ok {
		return "", ErrBadButton
	}
	got, err := base64.RawURLEncoding.DecodeString(tag)
	if err != nil || !hmac.Equal(got, s.mac(p)) {
		return "", ErrBadButton
	}
	payload, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return "", ErrBadButton
	}
	return string(payload), nil
}

func (s *Signer) mac(p string) []byte {
	h := hmac.New(sha256.New, s.key)
	h.Write([]byte(buttonPrefix))
	h.Write([]byte(p))
	return h.Sum(nil)[:buttonMACLen]
}
