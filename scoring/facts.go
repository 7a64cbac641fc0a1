package scoring

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/idpbot/idpbot/catalog"
)

// FactStore keeps facts pushed from outside (CI pipelines reporting
// coverage, deploy frequency…) in a catalog.State namespace, one record per
// entity and fact name; a newer push replaces the value.
type FactStore struct {
	st     *catalog.State
	onPush func()
}

// NewFactStore keeps facts in st.
func NewFactStore(st *catalog.State) *FactStore { return &FactStore{st: st} }

// OnPush sets a function called after every successful push (the tracker's
// Changed, so that leaderboards and metrics follow the facts).
func (fs *FactStore) OnPush(f func()) { fs.onPush = f }

var _ FactSource = (*FactStore)(nil)

var factNameRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// MaxFactsPerPush bounds one push.
const MaxFactsPerPush = 100

// ValidateFacts checks names (lower-case letters, digits, '_'; a rule reads
// them as facts.<name>) and values (numbers, strings up to 1 KiB, booleans).
func ValidateFacts(facts map[string]any) error {
	if len(facts) == 0 {
		return fmt.Errorf("no facts given; send e.g. {\"coverage\": 87.5}")
	}
	if len(facts) > MaxFactsPerPush {
		return fmt.Errorf("%d facts in one push; at most %d", len(facts), MaxFactsPerPush)
	}
	for name, v := range facts {
		if !factNameRE.MatchString(name) {
			return fmt.Errorf("fact name %q: use lower-case letters, digits and '_', starting with a letter (rules read it as facts.%s)", name, strings.ToLower(name))
		}
		switch x := v.(type) {
		case float64, bool, int, int64:
		case string:
			if len(x) > 1024 {
				return fmt.Errorf("fact %s: a string fact is at most 1024 bytes", name)
			}
		default:
			return fmt.Errorf("fact %s: %T is not a number, string or boolean", name, v)
		}
	}
	return nil
}

// Push records facts about ref from source at time at.
func (fs *FactStore) Push(ctx context.Context, ref, source string, at time.Time, facts map[string]any) error {
	if err := ValidateFacts(facts); err != nil {
		return err
	}
	err := fs.st.Update(ctx, func(tx *catalog.StateTx) error {
		for name, v := range facts {
			if err := tx.Put(ref+"/"+name, Fact{Value: v, Source: source, At: at.UTC()}); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil && fs.onPush != nil {
		fs.onPush()
	}
	return err
}

// Facts returns the facts pushed about ref.
func (fs *FactStore) Facts(ctx context.Context, ref string) (Facts, error) {
	out := Facts{}
	prefix := ref + "/"
	err := fs.st.View(ctx, func(tx *catalog.StateTx) error {
		return tx.Scan(prefix, false, func(key string, decode func(any) error) error {
			var f Fact
			if err := decode(&f); err != nil {
				return err
			}
			out[strings.TrimPrefix(key, prefix)] = f
			return nil
		})
	})
	return out, err
}

var _ FactSnapshot = (*FactStore)(nil)

// AllFacts reads the facts of every entity in one scan (a full evaluation
// asks for all of them: one read instead of one per entity).
func (fs *FactStore) AllFacts(ctx context.Context) (map[string]Facts, error) {
	out := map[string]Facts{}
	err := fs.st.View(ctx, func(tx *catalog.StateTx) error {
		return tx.Scan("", false, func(key string, decode func(any) error) error {
			i := strings.LastIndexByte(key, '/') // fact names have no '/'; refs do
			if i <= 0 {
				return nil
			}
			var f Fact
			if err := decode(&f); err != nil {
				return err
			}
			ref, name := key[:i], key[i+1:]
			if out[ref] == nil {
				out[ref] = Facts{}
			}
			out[ref][name] = f
			return nil
		})
	})
	return out, err
}
