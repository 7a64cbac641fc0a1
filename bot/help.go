package bot

import (
	"context"
	"strings"
)

func (r *Router) help(_ context.Context, c *Call) (*Reply, error) {
	if len(c.Args.Words) == 0 {
		return r.helpReply(c.Request, nil), nil
	}
	name := strings.ToLower(c.Args.Words[0])
	cmd, ok := r.cmds[name]
	if !ok {
		return nil, r.unknownCommand(c.Request, c.Args.Words[0])
	}
	return r.helpReply(c.Request, cmd), nil
}

// helpReply lists the commands, or explains one.
func (r *Router) helpReply(req *Request, cmd *Command) *Reply {
	if cmd == nil {
		rep := &Reply{Text: "idpbot commands: " + cmdline(req, "help <command>") + " explains one."}
		rep.Blocks = append(rep.Blocks, &Header{Text: "idpbot commands"})
		var t Text
		for i, c := range r.order {
			if i > 0 {
				t = append(t, P("\n"))
			}
			t = append(t, C(r.usage(req, c)), P(" — "+c.Summary))
		}
		rep.Blocks = append(rep.Blocks, &Section{Text: t})
		rep.Blocks = append(rep.Blocks, &Context{Text: T(cmdline(req, "help <command>") + " explains one. Add --public to any command to post the answer in the channel.")})
		return rep
	}
	rep := &Reply{Text: r.usage(req, cmd) + ": " + cmd.Summary}
	rep.Blocks = append(rep.Blocks, &Header{Text: cmdline(req, cmd.Name)})
	t := Text{C(r.usage(req, cmd)), P("\n" + upperFirst(cmd.Summary) + ".")}
	if cmd.Help != "" {
		t = append(t, P("\n"+cmd.Help))
	}
	rep.Blocks = append(rep.Blocks, &Section{Text: t})
	var flags Text
	for i, f := range append(append([]Flag(nil), cmd.Flags...), globalFlags...) {
		if i > 0 {
			flags = append(flags, P("\n"))
		}
		name := "--" + f.Name
		if f.Value != "" {
			name += "=" + f.Value
		}
		flags = append(flags, C(name), P(" "+f.Help))
	}
	rep.Blocks = append(rep.Blocks, &Section{Fields: []Field{{Label: "Flags", Value: flags}}})
	if len(cmd.Examples) > 0 {
		var ex Text
		for i, e := range cmd.Examples {
			if i > 0 {
				ex = append(ex, P("\n"))
			}
			ex = append(ex, C(cmdline(req, e)))
		}
		rep.Blocks = append(rep.Blocks, &Section{Fields: []Field{{Label: "Examples", Value: ex}}})
	}
	if len(cmd.Aliases) > 0 {
		rep.Blocks = append(rep.Blocks, &Context{Text: T("Also: " + strings.Join(cmd.Aliases, ", "))})
	}
	return rep
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
