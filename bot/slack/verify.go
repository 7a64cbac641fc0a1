package slack

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Slack's request-signing headers and window.
const (
	headerSignature = "X-Slack-Signature"
	headerTimestamp = "X-Slack-Request-Timestamp"
	signatureWindow = 5 * time.Minute
	signatureScheme = "v0"
)

// Reasons a signed request is refused. None of them carries a secret, a
// signature or the body.
var (
	ErrMissingHeaders = errors.New("slack signature: missing X-Slack-Signature or X-Slack-Request-Timestamp")
	ErrBadTimestamp   = errors.New("slack signature: timestamp is not a number of seconds")
	ErrStaleTimestamp = errors.New("slack signature: timestamp is more than 5 minutes from now (replay, or clock skew)")
	ErrBadSignature   = errors.New("slack signature: does not match the signing secret")
)

// verifier checks Slack's v0 request signatures: "v0=" followed by the hex
// HMAC-SHA256, keyed with the signing secret, of "v0:<timestamp>:<raw
// body>".
type verifier struct {
	secret []byte
	now    func() time.Time
}

// checkHeaders validates the timestamp header before the body is read.
func (v verifier) checkHeaders(h http.Header) (ts string, sig []byte, err error) {
	ts, s := h.Get(headerTimestamp), h.Get(headerSignature)
	if ts == "" || s == "" {
		return "", nil, ErrMissingHeaders
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return "", nil, ErrBadTimestamp
	}
	// Compare in seconds so that a huge value cannot overflow a Duration.
	if d := v.now().Unix() - sec; d > int64(signatureWindow/time.Second) || d < -int64(signatureWindow/time.Second) {
		return "", nil, ErrStaleTimestamp
	}
	hexSig, ok := strings.CutPrefix(s, signatureScheme+"=")
	if !ok || len(hexSig) != 2*sha256.Size {
		return "", nil, ErrBadSignature
	}
	sig, err = hex.DecodeString(hexSig)
	if err != nil {
		return "", nil, ErrBadSignature
	}
	return ts, sig, nil
}

// verify checks the signature of body, in constant time.
func (v verifier) verify(h http.Header, body []byte) error {
	ts, sig, err := v.checkHeaders(h)
	if err != nil {
		return err
	}
	if !v.check(ts, sig, body) {
		return ErrBadSignature
	}
	return nil
}

// check compares sig with the signature of body at ts in constant time.
func (v verifier) check(ts string, sig, body []byte) bool {
	return hmac.Equal(sig, sign(v.secret, ts, body))
}

// sign returns the raw HMAC of a request.
func sign(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(signatureScheme + ":" + ts + ":"))
	m.Write(body)
	return m.Sum(nil)
}

// Signature returns the X-Slack-Signature value Slack sends for body at
// timestamp ts (Unix seconds); tests and tools sign requests with it.
func Signature(secret, ts string, body []byte) string {
	return signatureScheme + "=" + hex.EncodeToString(sign([]byte(secret), ts, body))
}
