package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/dgraph-io/badger/v4"
)

// State is a namespace of mutable state (action runs, approvals, the audit
// log, scorecard history, which leaderboard was posted where) kept in the
// catalog's Badger database, so that one data directory, and one backup,
// holds everything. Keys live under s1/<name>/, apart from the catalog's
// own keys; values are JSON.
//
// Update runs a function in a serializable transaction: if another
// transaction changed what it read before it commits, it runs again on the
// new state. That makes read-check-write a compare-and-set: two approvers
// clicking at once cannot both move a run from one state to the next.
type State struct {
	db     *badger.DB
	prefix string
}

// statePrefix versions the layout of state keys.
const statePrefix = "s1/"

var stateNameRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)

// ErrStateConflict is returned by Update when the function kept losing
// races (MaxStateRetries times in a row).
var ErrStateConflict = errors.New("state: too many concurrent updates; try again")

// ErrStateTooBig is returned by Update when fn wrote more than one
// transaction holds (about 900 KB or 9,000 keys): write in smaller parts.
var ErrStateTooBig = errors.New("state: too much written in one transaction; write in smaller parts")

// MaxStateRetries bounds how often Update reruns its function on conflict.
const MaxStateRetries = 64

// State returns the namespace name (lower-case letters, digits, '-').
func (s *Store) State(name string) (*State, error) {
	if !stateNameRE.MatchString(name) {
		return nil, fmt.Errorf("state namespace %q: use 1-32 lower-case letters, digits and '-', starting with a letter", name)
	}
	return &State{db: s.db, prefix: statePrefix + name + "/"}, nil
}

// StateTx is one transaction over a namespace.
type StateTx struct {
	txn    *badger.Txn
	prefix string
}

// View runs fn in a read-only transaction.
func (st *State) View(ctx context.Context, fn func(tx *StateTx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return st.db.View(func(txn *badger.Txn) error { return fn(&StateTx{txn: txn, prefix: st.prefix}) })
}

// Update runs fn in a read-write transaction and commits it; on a conflict
// with a concurrent transaction it runs fn again. fn's error aborts with
// nothing written.
func (st *State) Update(ctx context.Context, fn func(tx *StateTx) error) error {
	for range MaxStateRetries {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := st.db.Update(func(txn *badger.Txn) error { return fn(&StateTx{txn: txn, prefix: st.prefix}) })
		if errors.Is(err, badger.ErrTxnTooBig) {
			return ErrStateTooBig
		}
		if !errors.Is(err, badger.ErrConflict) {
			return err
		}
	}
	return ErrStateConflict
}

// Get reads one value (see StateTx.Get).
func (st *State) Get(ctx context.Context, key string, v any) (found bool, err error) {
	err = st.View(ctx, func(tx *StateTx) error {
		found, err = tx.Get(key, v)
		return err
	})
	return found, err
}

func (tx *StateTx) key(k string) ([]byte, error) {
	if k == "" || strings.ContainsRune(k, 0) {
		return nil, fmt.Errorf("state key %q: must be non-empty and without NUL", k)
	}
	return []byte(tx.prefix + k), nil
}

// Get decodes the value of key into v; found is false when there is none.
func (tx *StateTx) Get(key string, v any) (found bool, err error) {
	k, err := tx.key(key)
	if err != nil {
		return false, err
	}
	item, err := tx.txn.Get(k)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, item.Value(func(b []byte) error {
		if err := json.Unmarshal(b, v); err != nil {
			return fmt.Errorf("state %s: %w", key, err)
		}
		return nil
	})
}

// Put writes v (as JSON) under key.
func (tx *StateTx) Put(key string, v any) error {
	k, err := tx.key(key)
	if err != nil {
		return err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("state %s: %w", key, err)
	}
	return tx.txn.Set(k, b)
}

// Delete removes key (nothing happens if it is absent).
func (tx *StateTx) Delete(key string) error {
	k, err := tx.key(key)
	if err != nil {
		return err
	}
	return tx.txn.Delete(k)
}

// Scan calls fn for every key starting with prefix, in key order (reverse
// order when reverse is set), with a function that decodes its value;
// returning ErrStopScan from fn ends the scan early without error.
func (tx *StateTx) Scan(prefix string, reverse bool, fn func(key string, decode func(v any) error) error) error {
	full := []byte(tx.prefix + prefix)
	opts := badger.IteratorOptions{Prefix: full, Reverse: reverse, PrefetchValues: false}
	it := tx.txn.NewIterator(opts)
	defer it.Close()
	start := full
	if reverse {
		start = append(append([]byte(nil), full...), 0xff)
	}
	for it.Seek(start); it.ValidForPrefix(full); it.Next() {
		item := it.Item()
		key := string(item.Key()[len(tx.prefix):])
		err := fn(key, func(v any) error {
			return item.Value(func(b []byte) error { return json.Unmarshal(b, v) })
		})
		if errors.Is(err, ErrStopScan) {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// ErrStopScan ends a Scan early.
var ErrStopScan = errors.New("stop scan")
