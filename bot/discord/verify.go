package discord

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"time"
)

// Discord's request-signing headers.
const (
	HeaderSignature = "X-Signature-Ed25519"
	HeaderTimestamp = "X-Signature-Timestamp"
)

// Reasons a request is refused before its body is trusted. None of them
// carries a signature or the body.
var (
	ErrMissingHeaders = errors.New("discord signature: missing X-Signature-Ed25519 or X-Signature-Timestamp")
	ErrBadTimestamp   = errors.New("discord signature: timestamp is not a number of seconds")
	ErrStaleTimestamp = errors.New("discord signature: timestamp is outside the accepted window (replay, or clock skew)")
	ErrBadSignature   = errors.New("discord signature: does not verify with discord.public_key")
)

// checkHeaders validates the signature headers and the timestamp window
// before the body is read.
func checkHeaders(h http.Header, now time.Time, window time.Duration) (ts string, sig []byte, err error) {
	ts, s := h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if ts == "" || s == "" {
		return "", nil, ErrMissingHeaders
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(ts) > 12 {
		return "", nil, ErrBadTimestamp
	}
	// Compare in seconds so that a huge value cannot overflow a Duration.
	w := int64(window / time.Second)
	if d := now.Unix() - sec; d > w || d < -w {
		return "", nil, ErrStaleTimestamp
	}
	if len(s) != 2*ed25519.SignatureSize {
		return "", nil, ErrBadSignature
	}
	sig, err = hex.DecodeString(s)
	if err != nil {
		return "", nil, ErrBadSignature
	}
	return ts, sig, nil
}

// verify checks Discord's Ed25519 signature over timestamp + raw body.
func verify(key ed25519.PublicKey, ts string, sig, body []byte) bool {
	msg := make([]byte, 0, len(ts)+len(body))
	msg = append(msg, ts...)
	msg = append(msg, body...)
	return ed25519.Verify(key, msg, sig)
}

// Sign returns the X-Signature-Ed25519 value Discord sends for body at
// timestamp ts (Unix seconds); tests and tools sign requests with it.
func Sign(key ed25519.PrivateKey, ts string, body []byte) string {
	msg := append([]byte(ts), body...)
	return hex.EncodeToString(ed25519.Sign(key, msg))
}
