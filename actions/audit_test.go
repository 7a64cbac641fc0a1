package actions_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/idpbot/idpbot/actions"
	"github.com/idpbot/idpbot/catalog"
)

// auditWithRecords makes a chain of a few records through the engine.
func auditWithRecords(t *testing.T) (*env, *catalog.State) {
	t.Helper()
	e := newEnv(t)
	ctx := context.Background()
	r := e.request(carmen, "restart-service", restartParams)
	if _, err := e.eng.Approve(ctx, r.ID, bilal); err != nil {
		t.Fatal(err)
	}
	e.eng.Wait()
	if err := e.eng.Audit().Verify(ctx); err != nil {
		t.Fatalf("fresh chain: %v", err)
	}
	st, err := e.store.State(actions.AuditNamespace)
	if err != nil {
		t.Fatal(err)
	}
	return e, st
}

func recKey(seq int) string { return fmt.Sprintf("rec/%020d", seq) }

func TestAuditChainDetectsTampering(t *testing.T) {
	ctx := context.Background()
	t.Run("complete", func(t *testing.T) {
		e, _ := auditWithRecords(t)
		recs, err := e.eng.Audit().List(ctx, actions.AuditFilter{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		var events []string
		for i := len(recs) - 1; i >= 0; i-- {
			events = append(events, recs[i].Event)
		}
		want := fmt.Sprint([]string{"requested", "approval", "approved", "started", "succeeded"})
		if fmt.Sprint(events) != want {
			t.Errorf("events = %v, want %s", events, want)
		}
		if recs[len(recs)-1].Inputs["env"] != "prod" || recs[len(recs)-1].Actor != carmen {
			t.Errorf("request record = %+v", recs[len(recs)-1])
		}
	})
	t.Run("modified", func(t *testing.T) {
		e, st := auditWithRecords(t)
		err := st.Update(ctx, func(tx *catalog.StateTx) error {
			var r actions.Record
			if _, err := tx.Get(recKey(2), &r); err != nil {
				return err
			}
			r.Actor = lena // someone else approved, says the forger
			return tx.Put(recKey(2), r)
		})
		if err != nil {
			t.Fatal(err)
		}
		var ce *actions.ChainError
		if err := e.eng.Audit().Verify(ctx); !errors.As(err, &ce) || ce.Seq != 2 {
			t.Errorf("Verify = %v; want record 2 modified", err)
		}
	})
	t.Run("deleted", func(t *testing.T) {
		e, st := auditWithRecords(t)
		if err := st.Update(ctx, func(tx *catalog.StateTx) error { return tx.Delete(recKey(3)) }); err != nil {
			t.Fatal(err)
		}
		var ce *actions.ChainError
		if err := e.eng.Audit().Verify(ctx); !errors.As(err, &ce) || ce.Seq != 3 {
			t.Errorf("Verify = %v; want record 3 missing", err)
		}
	})
	t.Run("last deleted", func(t *testing.T) {
		e, st := auditWithRecords(t)
		if err := st.Update(ctx, func(tx *catalog.StateTx) error { return tx.Delete(recKey(5)) }); err != nil {
			t.Fatal(err)
		}
		var ce *actions.ChainError
		if err := e.eng.Audit().Verify(ctx); !errors.As(err, &ce) || ce.Seq != 5 {
			t.Errorf("Verify = %v; want record 5 missing", err)
		}
	})
	t.Run("reordered", func(t *testing.T) {
		e, st := auditWithRecords(t)
		err := st.Update(ctx, func(tx *catalog.StateTx) error {
			var a, b actions.Record
			if _, err := tx.Get(recKey(2), &a); err != nil {
				return err
			}
			if _, err := tx.Get(recKey(3), &b); err != nil {
				return err
			}
			if err := tx.Put(recKey(2), b); err != nil {
				return err
			}
			return tx.Put(recKey(3), a)
		})
		if err != nil {
			t.Fatal(err)
		}
		var ce *actions.ChainError
		if err := e.eng.Audit().Verify(ctx); !errors.As(err, &ce) || ce.Seq != 2 {
			t.Errorf("Verify = %v; want record 2 moved", err)
		}
	})
}
