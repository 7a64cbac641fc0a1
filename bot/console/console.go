package console

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/idpbot/idpbot/bot"
)

// Handler is what the console needs of the router.
type Handler interface {
	Handle(ctx context.Context, req *bot.Request) *bot.Reply
	Click(ctx context.Context, req *bot.Request, value string) *bot.Reply
	ButtonValue(b bot.Button) string
}

var _ Handler = (*bot.Router)(nil)

// Session is one console conversation: who you act as and the choices of the
// last reply.
type Session struct {
	h       Handler
	as      string
	choices []bot.Button
}

// NewSession starts a conversation acting as the catalog user as ("" for
// nobody in particular).
func NewSession(h Handler, as string) *Session { return &Session{h: h, as: as} }

// Ask runs one command and writes the reply; the reply says whether it was
// an error.
func (s *Session) Ask(ctx context.Context, w io.Writer, text string) *bot.Reply {
	rep := s.h.Handle(ctx, s.request(text))
	s.choices = Render(w, rep)
	return rep
}

// Choose clicks button n (1-based) of the last reply.
func (s *Session) Choose(ctx context.Context, w io.Writer, n int) (*bot.Reply, error) {
	if n < 1 || n > len(s.choices) {
		if len(s.choices) == 0 {
			return nil, fmt.Errorf("the last answer has no choices")
		}
		return nil, fmt.Errorf("choose 1 to %d", len(s.choices))
	}
	btn := s.choices[n-1]
	rep := s.h.Click(ctx, s.request(""), s.h.ButtonValue(btn))
	s.choices = Render(w, rep)
	return rep, nil
}

func (s *Session) request(text string) *bot.Request {
	return &bot.Request{
		Platform: bot.Console,
		User:     bot.ChatUser{ID: "console", Name: s.as, CatalogRef: s.as},
		Text:     text,
	}
}

const replHelp = `Type a command (help lists them), a number to pick a choice, or:
  /as <user>   act as another catalog user (for "team" and "whoami")
  /as          act as nobody in particular
  /quit        leave (or Ctrl-D)`

// Run is the REPL: it reads lines from in until EOF, /quit or ctx ends.
// prompt is written before each line when interactive is true.
func Run(ctx context.Context, in io.Reader, out io.Writer, h Handler, as string, interactive bool) error {
	s := NewSession(h, as)
	if interactive {
		fmt.Fprintln(out, "idpbot console. "+strings.SplitN(replHelp, "\n", 2)[0])
	}
	lines := make(chan string)
	errc := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 64*1024), bot.MaxCommandText+1024)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
		errc <- sc.Err()
		close(lines)
	}()
	for {
		if interactive {
			prompt := "idp> "
			if s.as != "" {
				prompt = "idp(" + s.as + ")> "
			}
			fmt.Fprint(out, prompt)
		}
		var line string
		var ok bool
		select {
		case <-ctx.Done():
			fmt.Fprintln(out)
			return nil
		case line, ok = <-lines:
		}
		if !ok {
			if interactive {
				fmt.Fprintln(out)
			}
			return <-errc
		}
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "/idp ") || line == "/idp" {
			line = strings.TrimSpace(strings.TrimPrefix(line, "/idp"))
		}
		switch {
		case line == "":
			continue
		case line == "/quit" || line == "/exit" || line == "quit" || line == "exit":
			return nil
		case line == "/help" || line == "?":
			fmt.Fprintln(out, replHelp)
		case line == "/as":
			s.as = ""
			fmt.Fprintln(out, "Acting as nobody in particular.")
		case strings.HasPrefix(line, "/as "):
			prev := s.as
			s.as = strings.TrimSpace(strings.TrimPrefix(line, "/as "))
			if rep := s.Ask(ctx, out, "whoami"); rep.IsError {
				s.as = prev
			}
		case strings.HasPrefix(line, "/"):
			fmt.Fprintf(out, "unknown console command %s\n%s\n", line, replHelp)
		default:
			if n, err := strconv.Atoi(line); err == nil {
				if _, err := s.Choose(ctx, out, n); err != nil {
					fmt.Fprintln(out, err)
				}
				continue
			}
			s.Ask(ctx, out, line)
		}
		fmt.Fprintln(out)
	}
}
