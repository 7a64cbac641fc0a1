// Package webhook is the webhook executor of actions: it POSTs the run as
// JSON to the action's URL, signed with HMAC-SHA256, with the run id as
// idempotency key, retrying on 5xx, 429 and network errors.
//
// The request:
//
//	POST <url>
//	Content-Type: application/json
//	X-Idpbot-Run-Id: <run id>           (idempotency key; also Idempotency-Key)
//	X-Idpbot-Attempt: <n>               (delivery attempt, from 1)
//	X-Idpbot-Signature: sha256=<hex HMAC-SHA256(secret, body)>
//
//	{"runId": "…", "action": "…", "attempt": 1, "inputs": {…},
//	 "target": "component:default/…", "requester": "user:default/…",
//	 "approvers": ["user:default/…"], "sentAt": "2026-…Z"}
//
// A 2xx answer succeeds; its body (capped) is the run's output. Other 4xx
// answers fail at once. The same run is delivered again, with the same run
// id, after a retry or when idpbot restarts during a delivery: receivers
// must deduplicate on X-Idpbot-Run-Id.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/idpbot/idpbot/actions"
)

// Header names.
const (
	HeaderSignature = "X-Idpbot-Signature"
	HeaderRunID     = "X-Idpbot-Run-Id"
	HeaderAttempt   = "X-Idpbot-Attempt"
)

// Executor delivers runs of one action.
type Executor struct {
	action  string
	url     string
	secret  []byte
	timeout time.Duration
	retries int
	client  *http.Client
	backoff func(int) time.Duration
	log     *slog.Logger
}

var _ actions.Executor = (*Executor)(nil)

// Body is the JSON the receiver gets.
type Body struct {
	RunID     string         `json:"runId"`
	Action    string         `json:"action"`
	Attempt   int            `json:"attempt"`
	Inputs    map[string]any `json:"inputs"`
	Target    string         `json:"target,omitempty"`
	Requester string         `json:"requester"`
	Approvers []string       `json:"approvers"`
	SentAt    time.Time      `json:"sentAt"`
}

// Idempotent: receivers deduplicate on the run id.
func (x *Executor) Idempotent() bool { return true }

// Sign returns the X-Idpbot-Signature value of body.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a signature header against body in constant time; a
// receiver written in Go can call it.
func Verify(secret, body []byte, header string) bool {
	return hmac.Equal([]byte(header), []byte(Sign(secret, body)))
}

// Execute delivers the job, retrying as configured.
func (x *Executor) Execute(ctx context.Context, job *actions.Job) (string, error) {
	body := Body{RunID: job.RunID, Action: job.Action.ID, Attempt: job.Attempt, Inputs: typed(job), Target: job.Target,
		Requester: job.Requester, Approvers: job.Approvers}
	if body.Approvers == nil {
		body.Approvers = []string{}
	}
	var lastErr error
	var lastOut string
	for n := 0; n <= x.retries; n++ {
		if n > 0 {
			wait := x.backoff(n)
			var ra retryAfterError
			if errors.As(lastErr, &ra) && ra.after > 0 {
				wait = min(ra.after, time.Minute)
			}
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return lastOut, ctx.Err()
			case <-t.C:
			}
		}
		body.SentAt = time.Now().UTC()
		out, retry, err := x.deliver(ctx, &body, n+1)
		if err == nil {
			return out, nil
		}
		lastErr, lastOut = err, out
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		x.log.WarnContext(ctx, "webhook delivery failed", slog.String("run_id", job.RunID), slog.Int("delivery", n+1), slog.Bool("retry", retry && n < x.retries), slog.Any("error", err))
		if !retry {
			return out, err
		}
	}
	return lastOut, fmt.Errorf("webhook failed after %d attempts: %w", x.retries+1, lastErr)
}

type retryAfterError struct {
	status int
	after  time.Duration
}

func (e retryAfterError) Error() string {
	return fmt.Sprintf("receiver answered %d %s", e.status, http.StatusText(e.status))
}

// deliver makes one attempt; retry says whether another may succeed.
func (x *Executor) deliver(ctx context.Context, body *Body, delivery int) (out string, retry bool, err error) {
	b, err := json.Marshal(body)
	if err != nil {
		return "", false, fmt.Errorf("encode webhook body: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, x.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, x.url, bytes.NewReader(b))
	if err != nil {
		return "", false, errors.New("build webhook request: invalid url")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "idpbot-webhook/1")
	req.Header.Set(HeaderRunID, body.RunID)
	req.Header.Set("Idempotency-Key", body.RunID)
	req.Header.Set(HeaderAttempt, strconv.Itoa(delivery))
	req.Header.Set(HeaderSignature, Sign(x.secret, b))
	resp, err := x.client.Do(req)
	if err != nil {
		// Drop the URL from the error: it may carry a token.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("no answer within %s", x.timeout)
		}
		return "", true, fmt.Errorf("post webhook: %w", err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, MaxResponse))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, MaxResponse))
	out = strings.TrimSpace(string(data))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return out, false, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return out, true, retryAfterError{status: resp.StatusCode, after: retryAfter(resp.Header.Get("Retry-After"))}
	default:
		return out, false, fmt.Errorf("receiver answered %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
}

func retryAfter(h string) time.Duration {
	if s, err := strconv.Atoi(strings.TrimSpace(h)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	return 0
}

// typed turns the normalised inputs into JSON values: numbers as numbers,
// booleans as booleans, the rest as strings.
func typed(job *actions.Job) map[string]any {
	out := make(map[string]any, len(job.Inputs))
	for k, v := range job.Inputs {
		var val any = v
		if in := job.Action.Input(k); in != nil {
			switch in.Type {
			case actions.TypeNumber:
				val = json.Number(v)
			case actions.TypeBoolean:
				val = v == "true"
			}
		}
		out[k] = val
	}
	return out
}
