package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/idpbot/idpbot/catalog"
	"github.com/idpbot/idpbot/scoring"
)

// Command is one subcommand of /idp.
type Command struct {
	Name     string
	Aliases  []string
	Summary  string
	Help     string
	Examples []string
	// Args are the positional arguments, in order. Front doors with typed
	// commands (Discord) make an option of each.
	Args  []Arg
	Flags []Flag
	Run   func(ctx context.Context, c *Call) (*Reply, error)
}

// Arg is a positional argument.
type Arg struct {
	Name     string
	Help     string
	Required bool
	// Rest takes every remaining word (free text); only the last may.
	Rest bool
	// Complete says what names complete this argument (typeahead).
	Complete Completion
}

// Completion is the kind of names an argument takes.
type Completion int

// Completions.
const (
	NoCompletion Completion = iota
	CompleteEntity
	CompleteTeam
	CompleteCommand
)

// Flag documents one --flag of a command. Value is the placeholder of its
// value ("N"), empty for a switch. Int says the value is a whole number
// from Min to Max (when Max > Min); Choices, when set, are its only values.
type Flag struct {
	Name     string
	Value    string
	Help     string
	Int      bool
	Min, Max int
	Choices  []string
}

// GlobalFlags are the flags every command takes (--public, --help).
func GlobalFlags() []Flag { return slices.Clone(globalFlags) }

// argsUsage is the usage of the positional arguments: "<entity>",
// "[<team>]", "<text>...".
func (c *Command) argsUsage() string {
	var parts []string
	for _, a := range c.Args {
		u := "<" + a.Name + ">"
		if a.Rest {
			u += "..."
		}
		if !a.Required {
			u = "[" + u + "]"
		}
		parts = append(parts, u)
	}
	return strings.Join(parts, " ")
}

// wordBounds is the least and most positional words (most < 0: no bound).
func (c *Command) wordBounds() (least, most int) {
	for _, a := range c.Args {
		if a.Required {
			least++
		}
		if a.Rest {
			return least, -1
		}
		most++
	}
	return least, most
}

// globalFlags are accepted by every command.
var globalFlags = []Flag{
	{Name: "public", Help: "post the answer in the channel instead of only to you"},
	{Name: "help", Help: "show this command's help"},
}

// Call is one run of a command.
type Call struct {
	Request *Request
	Command *Command
	Args    *Args
	router  *Router
}

// Catalog is what the commands read.
func (c *Call) Catalog() Catalog { return c.router.cat }

// Caller is the catalog user behind the request, or a UserError saying how
// to link their chat account.
func (c *Call) Caller(ctx context.Context) (*catalog.Entity, error) {
	return c.router.identity.Resolve(ctx, c.Request.Platform, c.Request.User)
}

// Usage is the one-line usage of the command with the request's prefix.
func (c *Call) Usage() string { return c.router.usage(c.Request, c.Command) }

// Flag returns the value of --name and whether it was given.
func (c *Call) Flag(name string) (string, bool) {
	v, ok := c.Args.Flags[name]
	return v, ok
}

// IntFlag returns --name as an int within the flag's Min and Max, or def
// when absent.
func (c *Call) IntFlag(name string, def int) (int, error) {
	v, ok := c.Args.Flags[name]
	if !ok {
		return def, nil
	}
	lo, hi := math.MinInt, math.MaxInt
	for _, f := range c.Command.Flags {
		if f.Name == name && f.Max > f.Min {
			lo, hi = f.Min, f.Max
		}
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, Errorf("--%s=%s: give a whole number from %d to %d, e.g. --%s=%d", name, v, lo, hi, name, def).WithHint("usage: %s", c.Usage())
	}
	return n, nil
}

// Text is the positional words joined by spaces.
func (c *Call) Text() string { return strings.Join(c.Args.Words, " ") }

// picker makes a button of a which-one answer: it runs command (the same
// command with the precise argument) for whoever clicks it, and its answer
// replaces the picker.
func (c *Call) picker(label, command string) Button {
	return Button{Label: label, Command: command, Replace: true}
}

// Config assembles a Router.
type Config struct {
	Catalog  Catalog
	Signer   *Signer
	Identity *Identity
	// OnCall answers who is on call now; nil: the catalog's annotations
	// only.
	OnCall  OnCallSource
	Logger  *slog.Logger
	Metrics *Metrics
	// Timeout bounds one command (default 10 s).
	Timeout time.Duration
	// OnCallBudget bounds an on-call lookup inside a command (default 1 s):
	// a provider slower than that is left out of the answer.
	OnCallBudget time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Scorer answers score and leaderboard; nil: those commands are not
	// offered.
	Scorer Scorer
	// ReportTTL is how long a leaderboard's full evaluation is reused
	// (default 5 minutes).
	ReportTTL time.Duration
	// Actions runs self-service actions; nil: the action commands are not
	// offered.
	Actions ActionEngine
	// LatestReport, when set, gives the last scheduled evaluation; a
	// leaderboard uses it instead of evaluating the catalog itself.
	LatestReport func() *scoring.Report
	// Observe, when set, is told every answer: the request, the command
	// that ran ("" when none did) and the reply (audit trails, tests).
	Observe func(req *Request, command string, reply *Reply)
	// Overlays, when set, gives what actions changed on an entity outside
	// its catalog files (catalogexec.NewOverlays(store)); show lists it.
	Overlays OverlaySource
}

// Router parses command text and runs commands.
type Router struct {
	cat      Catalog
	signer   *Signer
	identity *Identity
	oncall   OnCallSource
	log      *slog.Logger
	metrics  *Metrics
	timeout  time.Duration
	now      func() time.Time
	// onCallBudget bounds on-call lookups.
	onCallBudget time.Duration
	scorer       Scorer
	actions      ActionEngine
	reports      reportCache
	observe      func(req *Request, command string, reply *Reply)
	overlays     OverlaySource
	cmds         map[string]*Command
	order        []*Command
	// sent de-duplicates form submissions (Request.SubmissionID).
	sent sentForms
}

// NewRouter returns a router with the built-in commands.
func NewRouter(cfg Config) (*Router, error) {
	if cfg.Catalog == nil {
		return nil, errors.New("bot: Config.Catalog is required")
	}
	if cfg.Signer == nil {
		return nil, errors.New("bot: Config.Signer is required")
	}
	r := &Router{
		cat: cfg.Catalog, signer: cfg.Signer, identity: cfg.Identity, oncall: cfg.OnCall,
		log: cfg.Logger, metrics: cfg.Metrics, timeout: cfg.Timeout, cmds: map[string]*Command{},
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.identity == nil {
		r.identity = NewIdentity(cfg.Catalog, nil, 0)
	}
	if r.timeout <= 0 {
		r.timeout = 10 * time.Second
	}
	r.onCallBudget = cfg.OnCallBudget
	if r.onCallBudget <= 0 {
		r.onCallBudget = time.Second
	}
	r.observe = cfg.Observe
	r.overlays = cfg.Overlays
	r.now = cfg.Now
	if r.now == nil {
		r.now = time.Now
	}
	if err := r.Register(builtinCommands(r)...); err != nil {
		return nil, err
	}
	if cfg.Scorer != nil {
		r.scorer = cfg.Scorer
		r.reports.ttl = cfg.ReportTTL
		r.reports.latest = cfg.LatestReport
		if r.reports.ttl <= 0 {
			r.reports.ttl = 5 * time.Minute
		}
		if err := r.Register(scoreCommands(r)...); err != nil {
			return nil, err
		}
	}
	if cfg.Actions != nil {
		r.actions = cfg.Actions
		if err := r.Register(actionCommands(r)...); err != nil {
			return nil, err
		}
	}
	if err := r.Register(helpCommand(r)); err != nil {
		return nil, err
	}
	return r, nil
}

// Register adds commands; a name or alias taken twice is an error.
func (r *Router) Register(cmds ...*Command) error {
	for _, c := range cmds {
		for _, n := range append([]string{c.Name}, c.Aliases...) {
			if _, dup := r.cmds[n]; dup {
				return fmt.Errorf("bot: command name %q registered twice", n)
			}
			r.cmds[n] = c
		}
		r.order = append(r.order, c)
	}
	return nil
}

// Commands lists the commands in registration order.
func (r *Router) Commands() []*Command { return slices.Clone(r.order) }

// Command finds a command by name or alias.
func (r *Router) Command(name string) (*Command, bool) {
	c, ok := r.cmds[strings.ToLower(name)]
	return c, ok
}

// replaceMark starts the signed payload of a button whose answer replaces
// its message (command names never start with it).
const replaceMark = "!"

// formMark starts the signed payload of a button that opens the form of
// an action (Button.Form): the digest of the action follows (command
// names never start with it).
const formMark = "?"

// ButtonValue is the signed opaque value a front door puts on the wire for
// b; Click takes it back. It is "" (the front door leaves the button out)
// for a Form button that does not name an action.
func (r *Router) ButtonValue(b Button) string {
	if b.Form {
		return r.formButtonValue(b.Command)
	}
	if b.Replace {
		return r.signer.Sign(replaceMark + b.Command)
	}
	return r.signer.Sign(b.Command)
}

// Handle runs the command in req.Text and returns the reply. It never
// returns nil and never panics: internal errors become a reply with the
// request id, logged with the details.
func (r *Router) Handle(ctx context.Context, req *Request) *Reply {
	if req.ID == "" {
		req.ID = NewRequestID()
	}
	start := time.Now()
	name, reply, err := r.dispatch(ctx, req)
	return r.finish(ctx, req, name, start, reply, err)
}

// Click runs the command behind a button value, as the person who clicked.
// A value this bot did not sign runs nothing.
func (r *Router) Click(ctx context.Context, req *Request, value string) *Reply {
	if req.ID == "" {
		req.ID = NewRequestID()
	}
	start := time.Now()
	cmd, err := r.signer.Verify(value)
	if err != nil {
		r.log.WarnContext(ctx, "rejected button value", "request_id", req.ID, "platform", req.Platform, "user_id", req.User.ID)
		ue := Errorf("This button is not valid any more (it was not made by this bot, or its key changed).").
			WithHint("run the command again")
		return r.finish(ctx, req, "click", start, nil, ue)
	}
	if digest, ok := strings.CutPrefix(cmd, formMark); ok {
		reply, err := r.formClick(ctx, req, digest)
		return r.finish(ctx, req, "run", start, reply, err)
	}
	cmd, replace := strings.CutPrefix(cmd, replaceMark)
	req.Text = cmd
	name, reply, err := r.dispatch(ctx, req)
	reply = r.finish(ctx, req, name, start, reply, err)
	if replace {
		reply.ReplaceOriginal = true
	}
	return reply
}

func (r *Router) dispatch(ctx context.Context, req *Request) (name string, reply *Reply, err error) {
	args, err := ParseArgs(req.Text)
	if err != nil {
		return "", nil, Errorf("I could not read that command: %v.", err).WithHint("usage: %s; try %s", cmdline(req, "<command> [arguments]"), cmdline(req, "help"))
	}
	if len(args.Words) == 0 {
		if _, ok := args.Flags["help"]; ok || (len(args.Flags) == 0 && len(args.Params) == 0) {
			return "help", r.helpReply(req, nil), nil
		}
		return "", nil, Errorf("Give a command first.").WithHint("try %s", cmdline(req, "help"))
	}
	name = strings.ToLower(args.Words[0])
	cmd, ok := r.cmds[name]
	if !ok {
		return "unknown", nil, r.unknownCommand(req, args.Words[0])
	}
	args.Words = args.Words[1:]
	for k, v := range args.next {
		args.next[k] = v - 1 // the command name is gone
	}
	takesValue := map[string]bool{}
	for _, f := range cmd.Flags {
		takesValue[f.Name] = f.Value != ""
	}
	args.BindValues(takesValue)
	call := &Call{Request: req, Command: cmd, Args: args, router: r}
	if _, ok := args.Flags["help"]; ok {
		return cmd.Name, r.helpReply(req, cmd), nil
	}
	if err := r.checkArgs(call); err != nil {
		return cmd.Name, nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	reply, err = r.run(ctx, call)
	if err == nil && reply == nil {
		err = fmt.Errorf("command %s returned no reply", cmd.Name)
	}
	if err != nil {
		return cmd.Name, nil, r.lookupError(call, err)
	}
	if _, ok := args.Flags["public"]; ok {
		reply.Visibility = InChannel
	}
	return cmd.Name, reply, nil
}

// run calls the command, turning a panic into an internal error.
func (r *Router) run(ctx context.Context, c *Call) (*Reply, error) {
	return r.safely(c.Command.Name, func() (*Reply, error) { return c.Command.Run(ctx, c) })
}

// safely calls fn, turning a panic into an internal error.
func (r *Router) safely(name string, fn func() (*Reply, error)) (reply *Reply, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("command %s panicked: %v\n%s", name, p, debug.Stack())
		}
	}()
	return fn()
}

func (r *Router) checkArgs(c *Call) error {
	known := map[string]bool{}
	for _, f := range append(slices.Clone(globalFlags), c.Command.Flags...) {
		known[f.Name] = true
	}
	for _, f := range c.Args.FlagOrder {
		if !known[f] {
			return Errorf("%s has no flag --%s.", c.Command.Name, f).WithHint("usage: %s", c.Usage())
		}
	}
	n := len(c.Args.Words)
	least, most := c.Command.wordBounds()
	if n < least {
		return Errorf("%s needs %s.", c.Command.Name, c.Command.argsUsage()).WithHint("usage: %s", c.Usage())
	}
	if most >= 0 && n > most {
		if most == 0 {
			return Errorf("%s takes no arguments, not %q.", c.Command.Name, strings.Join(c.Args.Words, " ")).WithHint("usage: %s", c.Usage())
		}
		return Errorf("%s takes %s, not %q.", c.Command.Name, plural(most, "argument"), strings.Join(c.Args.Words, " ")).
			WithHint("usage: %s; quote a name with spaces", c.Usage())
	}
	return nil
}

// lookupError turns the catalog's ambiguous and unknown names into user
// errors whose buttons run the same command on each candidate.
func (r *Router) lookupError(c *Call, err error) error {
	var amb *catalog.AmbiguousError
	var nf *catalog.NotFoundError
	switch {
	case errors.As(err, &amb):
		ue := Errorf("%q matches %s; which one?", amb.Query, plural(len(amb.Candidates), "entity"))
		for _, ref := range amb.Candidates {
			ue.Buttons = append(ue.Buttons, c.picker(ref.String(), c.Command.Name+" "+ref.String()))
		}
		return ue
	case errors.As(err, &nf):
		ue := Errorf("Nothing in the catalog is called %q.", nf.Query)
		if len(nf.Suggestions) > 0 {
			ue.Message += " Did you mean one of these?"
			for _, ref := range nf.Suggestions {
				ue.Buttons = append(ue.Buttons, c.picker(ref.String(), c.Command.Name+" "+ref.String()))
			}
		} else {
			ue.Hint = "try " + cmdline(c.Request, "search "+nf.Query)
		}
		return ue
	case errors.Is(err, context.DeadlineExceeded):
		return Errorf("That took longer than %s and was stopped.", r.timeout).WithHint("try a narrower query")
	}
	return err
}

func (r *Router) unknownCommand(req *Request, typed string) error {
	names := make([]string, 0, len(r.cmds))
	for n := range r.cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	ue := Errorf("There is no command %q.", typed)
	// Suggest each command once, by its name, even when an alias is closer.
	var best []string
	for _, n := range closest(strings.ToLower(typed), names, 2) {
		if name := r.cmds[n].Name; !slices.Contains(best, name) {
			best = append(best, name)
		}
	}
	for _, n := range best {
		ue.Buttons = append(ue.Buttons, Button{Label: n, Command: n + " --help", Replace: true})
	}
	if len(best) > 0 {
		ue.Message += " Did you mean " + quoteList(best) + "?"
	}
	ue.Hint = cmdline(req, "help") + " lists every command"
	return ue
}

func (r *Router) finish(ctx context.Context, req *Request, name string, start time.Time, reply *Reply, err error) *Reply {
	outcome := "ok"
	if err == nil && reply != nil && reply.Form != nil {
		outcome = "form"
	}
	if err != nil {
		if ue, ok := AsUserError(err); ok {
			outcome = "user_error"
			reply = userErrorReply(ue)
			r.log.InfoContext(ctx, "command refused", "request_id", req.ID, "platform", req.Platform, "command", name, "user_id", req.User.ID, "reason", ue.Message)
		} else {
			outcome = "internal_error"
			r.log.ErrorContext(ctx, "command failed", "request_id", req.ID, "platform", req.Platform, "command", name, "user_id", req.User.ID, "error", err.Error())
			reply = &Reply{
				IsError: true,
				Text:    "Something went wrong on our side (request id " + req.ID + ").",
				Blocks: []Block{
					&Section{Text: Text{P("Something went wrong on our side. Please try again; if it keeps happening, give the bot's operators the request id "), C(req.ID), P(".")}},
				},
			}
		}
	}
	r.metrics.observe(req.Platform, name, outcome, time.Since(start))
	if r.observe != nil {
		r.observe(req, name, reply)
	}
	return reply
}

func userErrorReply(ue *UserError) *Reply {
	rep := &Reply{IsError: true, Text: ue.Error()}
	rep.Blocks = append(rep.Blocks, &Section{Text: T(ue.Message)})
	if ue.Hint != "" {
		rep.Blocks = append(rep.Blocks, &Context{Text: T(ue.Hint)})
	}
	if len(ue.Buttons) > 0 {
		rep.Blocks = append(rep.Blocks, &Actions{Buttons: ue.Buttons})
	}
	return rep
}

// prefix is how the user invokes the bot on the request's platform: /idp
// in chat, nothing in the console (the REPL and `idpbot ask` take the
// command itself).
func prefix(req *Request) string {
	if req != nil && req.Platform == Console {
		return ""
	}
	return "/idp"
}

// cmdline is a command as the user types it on the request's platform.
func cmdline(req *Request, command string) string {
	if p := prefix(req); p != "" {
		return p + " " + command
	}
	return command
}

func (r *Router) usage(req *Request, c *Command) string {
	u := cmdline(req, c.Name)
	if a := c.argsUsage(); a != "" {
		u += " " + a
	}
	for _, f := range c.Flags {
		if f.Value != "" {
			u += " [--" + f.Name + "=" + f.Value + "]"
		} else {
			u += " [--" + f.Name + "]"
		}
	}
	return u
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if strings.HasSuffix(noun, "y") {
		return strconv.Itoa(n) + " " + strings.TrimSuffix(noun, "y") + "ies"
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

func quoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = strconv.Quote(x)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// closest returns the candidates within maxDist edits of s (a prefix match
// counts as distance 1), nearest first.
func closest(s string, candidates []string, maxDist int) []string {
	type scored struct {
		name string
		d    int
	}
	var out []scored
	for _, c := range candidates {
		d := catalog.EditDistance(s, c)
		if len(s) >= 2 && strings.HasPrefix(c, s) {
			d = min(d, 1)
		}
		if d <= maxDist {
			out = append(out, scored{c, d})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].d < out[j].d })
	names := make([]string, 0, min(len(out), 3))
	for i := 0; i < len(out) && i < 3; i++ {
		names = append(names, out[i].name)
	}
	return names
}

// Complete suggests up to n values for an argument of kind c starting with
// prefix (typeahead): entity refs, team refs or command names.
func (r *Router) Complete(ctx context.Context, c Completion, prefix string, n int) ([]string, error) {
	if n <= 0 {
		n = 25
	}
	switch c {
	case CompleteCommand:
		var out []string
		for _, cmd := range r.order {
			if strings.HasPrefix(cmd.Name, strings.ToLower(prefix)) && len(out) < n {
				out = append(out, cmd.Name)
			}
		}
		return out, nil
	case CompleteEntity, CompleteTeam:
		ask := n
		if c == CompleteTeam {
			ask = n * 4 // teams are a few of the names sharing a prefix
		}
		refs, err := r.cat.Complete(ctx, strings.TrimSpace(prefix), ask)
		if err != nil {
			return nil, err
		}
		var out []string
		for _, ref := range refs {
			if c == CompleteTeam && !strings.EqualFold(ref.Kind, catalog.KindGroup) {
				continue
			}
			if len(out) == n {
				break
			}
			out = append(out, ref.String())
		}
		return out, nil
	}
	return nil, nil
}
