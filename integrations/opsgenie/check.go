package opsgenie

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/opsgenie/opsgenie-go-sdk-v2/schedule"

	"github.com/idpbot/idpbot/integrations/check"
	"github.com/idpbot/idpbot/integrations/oncall"
)

// maxCheckedSchedules bounds the timelines Check reads.
const maxCheckedSchedules = 25

// Check tests what `idpbot integrations check` reports for Opsgenie: the
// key can list schedules, each team the catalog names (teams maps an
// opsgenie.com/team value to the entities naming it) owns an enabled
// schedule, each schedule named by opsgenie.com/schedule exists, and the
// people on those schedules are catalog users (by e-mail).
func (s *Source) Check(ctx context.Context, teams, schedules map[string][]string) []check.Result {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	fail := func(name string, err error, fix string) check.Result {
		return check.Result{Integration: provider, Check: name, Detail: err.Error(), Fix: fix}
	}
	ok := func(name, detail string) check.Result {
		return check.Result{Integration: provider, Check: name, OK: true, Detail: detail}
	}
	expand := false
	list, err := s.schedules.List(ctx, &schedule.ListRequest{Expand: &expand})
	if err != nil {
		err = s.apiError(ctx, "list schedules", err)
		return []check.Result{fail("api key", err, fixFor(err, s.cfg.APIURL))}
	}
	out := []check.Result{ok("api key", fmt.Sprintf("accepted by %s (%d schedules visible)", s.cfg.APIURL, len(list.Schedule)))}
	// Escalations give the levels; without them every shift shows level 1.
	if escs, err := s.escalations.List(ctx); err != nil {
		err = s.apiError(ctx, "list escalations", err)
		fix := fixFor(err, s.cfg.APIURL)
		if errors.Is(err, oncall.ErrUnauthorized) {
			fix = "the key cannot read escalations, so every schedule is shown at level 1: give the API integration configuration (read) access"
		}
		out = append(out, fail("escalations", err, fix))
	} else {
		out = append(out, ok("escalations", fmt.Sprintf("%d readable (they give the escalation levels)", len(escs.Escalations))))
	}
	if len(teams)+len(schedules) == 0 {
		return append(out, ok("annotations", "no catalog entity has an opsgenie.com/team or opsgenie.com/schedule annotation; on-call comes from rotations"))
	}
	var refs []scheduleRef
	for _, team := range sortedKeys(teams) {
		name := "team " + team + " (" + strings.Join(teams[team], ", ") + ")"
		var owned []string
		for _, sc := range list.Schedule {
			if sc.Enabled && sc.OwnerTeam != nil && (strings.EqualFold(sc.OwnerTeam.Name, team) || sc.OwnerTeam.Id == team) {
				owned = append(owned, sc.Name)
				refs = append(refs, scheduleRef{ident: schedule.Id, value: sc.Id, name: sc.Name})
			}
		}
		if len(owned) == 0 {
			out = append(out, fail(name, errors.New("owns no enabled schedule"),
				"check the team name in opsgenie.com/team (as Opsgenie spells it), enable its schedule, or name a schedule with opsgenie.com/schedule"))
			continue
		}
		out = append(out, ok(name, "schedules: "+strings.Join(owned, ", ")))
	}
	for _, named := range sortedKeys(schedules) {
		name := "schedule " + named + " (" + strings.Join(schedules[named], ", ") + ")"
		found := false
		for _, sc := range list.Schedule {
			if strings.EqualFold(sc.Name, named) {
				found = true
				if !sc.Enabled {
					out = append(out, fail(name, errors.New("the schedule is disabled"), "enable it in Opsgenie, or name another schedule"))
					continue
				}
				refs = append(refs, scheduleRef{ident: schedule.Id, value: sc.Id, name: sc.Name})
				out = append(out, ok(name, "exists and is enabled"))
			}
		}
		if !found {
			out = append(out, fail(name, errors.New("no schedule has this name"), "fix opsgenie.com/schedule: it is the schedule's name as shown in Opsgenie"))
		}
	}
	if len(refs) > maxCheckedSchedules {
		refs = refs[:maxCheckedSchedules]
	}
	var emails []string
	now := s.now().UTC()
	for _, ref := range refs {
		tl, err := s.timeline(ctx, ref, now)
		if err != nil {
			out = append(out, fail("timeline of "+ref.name, err, fixFor(err, s.cfg.APIURL)))
			continue
		}
		emails = append(emails, tl.emails()...)
	}
	if len(emails) == 0 {
		return out
	}
	return append(out, s.people.CheckPeople(ctx, provider, "on the schedules", emails))
}

func sortedKeys(m map[string][]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// fixFor says what to do about a failed Opsgenie call.
func fixFor(err error, apiURL string) string {
	switch {
	case errors.Is(err, oncall.ErrUnauthorized):
		return "the key is refused: use the key of an API integration with Read and Configuration access (Settings → Integrations → API) in opsgenie.api_key or OPSGENIE_API_KEY"
	case errors.Is(err, oncall.ErrNotFound):
		return "not found, or the key cannot see it: check the annotation's value"
	case errors.Is(err, oncall.ErrUnavailable):
		return "Opsgenie did not answer at " + apiURL + ": check the network path and opsgenie.api_url (https://api.eu.opsgenie.com for the EU instance)"
	default:
		return "check opsgenie.api_url; the answer was not Opsgenie's API"
	}
}
