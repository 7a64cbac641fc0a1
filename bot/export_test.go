package bot

import "time"

// SetClock replaces the identity cache's clock (tests).
func (id *Identity) SetClock(now func() time.Time) { id.now = now }
