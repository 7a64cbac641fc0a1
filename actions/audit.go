package actions

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/idpbot/idpbot/catalog"
)

// Audit is the append-only, hash-chained audit log in the "audit" state
// namespace. Each record stores the SHA-256 of the previous record's stored
// bytes, and the head stores the sequence number and hash of the last one,
// so that Verify detects a record modified, deleted or moved. Anyone who can
// write the data directory can still rewrite the whole chain: keep the head
// hash (Head, printed by `idpbot audit verify`) somewhere else to detect
// that too.
type Audit struct {
	st *catalog.State
}

// Record is one audit event. Inputs have secrets redacted.
type Record struct {
	Seq     uint64            `json:"seq"`
	Time    time.Time         `json:"time"`
	Event   string            `json:"event"`
	RunID   string            `json:"runId,omitempty"`
	Action  string            `json:"action,omitempty"`
	Actor   string            `json:"actor,omitempty"`
	Status  Status            `json:"status,omitempty"`
	Inputs  map[string]string `json:"inputs,omitempty"`
	Detail  string            `json:"detail,omitempty"`
	EventID string            `json:"eventId,omitempty"`
	// Prev is the hex SHA-256 of the previous record's bytes ("" for the
	// first record).
	Prev string `json:"prev"`
}

// Audit events.
const (
	EventRequested = "requested"
	EventApproval  = "approval" // one approver approved
	EventApproved  = "approved" // the run is approved (quorum, or no approval needed)
	EventRejected  = "rejected"
	EventCancelled = "cancelled"
	EventExpired   = "expired"
	EventStarted   = "started"
	EventRetried   = "retried" // started again after a restart
	EventSucceeded = "succeeded"
	EventFailed    = "failed"
	EventUnknown   = "unknown"
)

type auditHead struct {
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
}

const (
	auditRecPrefix = "rec/"
	auditHeadKey   = "head"
	auditEvPrefix  = "ev/"
)

// NewAudit returns the audit log kept in st (the "audit" namespace).
func NewAudit(st *catalog.State) *Audit { return &Audit{st: st} }

func recKey(seq uint64) string { return fmt.Sprintf("%s%020d", auditRecPrefix, seq) }

func hashOf(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// Append adds rec at the end of the chain and returns it with Seq and Prev
// set. A record whose EventID the chain already holds is not added again
// (the stored one is returned), so that replaying the outbox after a crash
// adds nothing twice.
func (a *Audit) Append(ctx context.Context, rec Record) (Record, error) {
	var out Record
	err := updateRetry(ctx, a.st, func(tx *catalog.StateTx) error {
		if rec.EventID != "" {
			var seq uint64
			found, err := tx.Get(auditEvPrefix+rec.EventID, &seq)
			if err != nil {
				return err
			}
			if found {
				_, err := tx.Get(recKey(seq), &out)
				return err
			}
		}
		var head auditHead
		if _, err := tx.Get(auditHeadKey, &head); err != nil {
			return err
		}
		r := rec
		r.Seq, r.Prev = head.Seq+1, head.Hash
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		if err := tx.Put(recKey(r.Seq), r); err != nil {
			return err
		}
		if r.EventID != "" {
			if err := tx.Put(auditEvPrefix+r.EventID, r.Seq); err != nil {
				return err
			}
		}
		out = r
		return tx.Put(auditHeadKey, auditHead{Seq: r.Seq, Hash: hashOf(b)})
	})
	if err != nil {
		return Record{}, fmt.Errorf("append audit record: %w", err)
	}
	return out, nil
}

// ChainError says where the chain is broken.
type ChainError struct {
	// Seq is the record at fault (0 when the head is).
	Seq     uint64
	Problem string
}

func (e *ChainError) Error() string {
	if e.Seq == 0 {
		return "audit chain broken: " + e.Problem
	}
	return fmt.Sprintf("audit chain broken at record %d: %s", e.Seq, e.Problem)
}

// Head returns the sequence number and hash of the last record; recorded
// elsewhere, it lets a later Verify prove that the chain was not rewritten.
func (a *Audit) Head(ctx context.Context) (seq uint64, hash string, err error) {
	var h auditHead
	if _, err := a.st.Get(ctx, auditHeadKey, &h); err != nil {
		return 0, "", err
	}
	return h.Seq, h.Hash, nil
}

// Verify walks the chain from the first record and returns a *ChainError
// naming the first record that was modified, deleted or moved, or nil when
// the chain is whole.
func (a *Audit) Verify(ctx context.Context) error {
	var cerr *ChainError
	var head auditHead
	var haveHead bool
	var prevHash string
	var expect uint64 = 1
	err := a.st.View(ctx, func(tx *catalog.StateTx) error {
		var err error
		haveHead, err = tx.Get(auditHeadKey, &head)
		if err != nil {
			return err
		}
		return tx.Scan(auditRecPrefix, false, func(key string, decode func(any) error) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			keySeq, perr := strconv.ParseUint(strings.TrimPrefix(key, auditRecPrefix), 10, 64)
			var raw json.RawMessage
			var rec Record
			if err := decode(&raw); err != nil || perr != nil || json.Unmarshal(raw, &rec) != nil {
				cerr = &ChainError{Seq: keySeq, Problem: "the record is not readable (modified)"}
				return catalog.ErrStopScan
			}
			switch {
			case keySeq != rec.Seq:
				cerr = &ChainError{Seq: keySeq, Problem: fmt.Sprintf("the record stored at position %d says it is record %d (records were moved or reordered)", keySeq, rec.Seq)}
			case keySeq > expect:
				cerr = &ChainError{Seq: expect, Problem: fmt.Sprintf("record %d is missing (deleted): the chain jumps from %d to %d", expect, expect-1, keySeq)}
			case rec.Prev != prevHash && keySeq > 1:
				cerr = &ChainError{Seq: keySeq - 1, Problem: fmt.Sprintf("record %d was modified or replaced: its hash does not match the one record %d holds", keySeq-1, keySeq)}
			case rec.Prev != "" && keySeq == 1:
				cerr = &ChainError{Seq: 1, Problem: "the first record points at a predecessor (records before it were deleted)"}
			}
			if cerr != nil {
				return catalog.ErrStopScan
			}
			prevHash = hashOf(raw)
			expect = keySeq + 1
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("verify audit chain: %w", err)
	}
	if cerr != nil {
		return cerr
	}
	last := expect - 1
	switch {
	case !haveHead && last > 0:
		return &ChainError{Problem: "the head record is missing"}
	case head.Seq > last:
		return &ChainError{Seq: last + 1, Problem: fmt.Sprintf("records %d to %d are missing (deleted from the end)", last+1, head.Seq)}
	case head.Seq < last:
		return &ChainError{Problem: fmt.Sprintf("the head says %d records, the chain holds %d (records appended by hand)", head.Seq, last)}
	case last > 0 && head.Hash != prevHash:
		return &ChainError{Seq: last, Problem: fmt.Sprintf("record %d was modified: its hash does not match the head", last)}
	}
	return nil
}

// AuditFilter selects records; empty fields match everything.
type AuditFilter struct {
	RunID  string
	Actor  string
	Action string
	Event  string
	Since  time.Time
	Until  time.Time
}

func (f AuditFilter) match(r *Record) bool {
	return (f.RunID == "" || r.RunID == f.RunID) && (f.Actor == "" || r.Actor == f.Actor) &&
		(f.Action == "" || r.Action == f.Action) && (f.Event == "" || r.Event == f.Event) &&
		(f.Since.IsZero() || !r.Time.Before(f.Since)) && (f.Until.IsZero() || r.Time.Before(f.Until))
}

// List returns up to limit records matching f, newest first (limit <= 0:
// 100).
func (a *Audit) List(ctx context.Context, f AuditFilter, limit int) ([]Record, error) {
	if limit <= 0 {
		limit = 100
	}
	var out []Record
	err := a.st.View(ctx, func(tx *catalog.StateTx) error {
		return tx.Scan(auditRecPrefix, true, func(_ string, decode func(any) error) error {
			var r Record
			if err := decode(&r); err != nil {
				return err
			}
			if f.match(&r) {
				out = append(out, r)
			}
			if len(out) >= limit {
				return catalog.ErrStopScan
			}
			return ctx.Err()
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list audit records: %w", err)
	}
	return out, nil
}

// updateRetry is State.Update, tried again a few times when it keeps
// losing races (many approvers clicking at once).
func updateRetry(ctx context.Context, st *catalog.State, fn func(tx *catalog.StateTx) error) error {
	var err error
	for range 8 {
		err = st.Update(ctx, fn)
		if !errors.Is(err, catalog.ErrStateConflict) {
			return err
		}
	}
	return err
}
