package bot

import (
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxCommandText bounds the text of one command; longer text is refused
// before it is parsed.
const MaxCommandText = 4000

// Args is a command line split the way a shell would: positional words,
// key=value parameters and --flags.
type Args struct {
	Words  []string
	Params map[string]string
	// Flags holds --name and --name=value (value "" for the first form).
	Flags map[string]string
	// ParamOrder and FlagOrder keep the order typed, for messages.
	ParamOrder []string
	FlagOrder  []string
	// next is, for a --flag typed without =value, the index in Words of the
	// word right after it (-1: none), so that "--team payments" can give
	// the flag its value once the command says the flag takes one.
	next map[string]int
}

// BindValues gives each flag in takesValue that was typed without "=value"
// the word that follows it ("--team payments" is "--team=payments").
func (a *Args) BindValues(takesValue map[string]bool) {
	type bind struct {
		flag string
		idx  int
	}
	var binds []bind
	for name, idx := range a.next {
		if takesValue[name] && idx >= 0 && a.Flags[name] == "" {
			binds = append(binds, bind{name, idx})
		}
	}
	// Remove from the highest index down so that lower indices stay valid.
	sort.Slice(binds, func(i, j int) bool { return binds[i].idx > binds[j].idx })
	for _, b := range binds {
		a.Flags[b.flag] = a.Words[b.idx]
		a.Words = append(a.Words[:b.idx], a.Words[b.idx+1:]...)
	}
	a.next = nil
}

// Split breaks text into words. Single and double quotes group words (typed
// quotes, “curly” and ‘curly’, count: chat clients replace straight quotes);
// a backslash escapes the next character outside single quotes. An
// unterminated quote is an error that says where it opened.
func Split(text string) ([]string, error) {
	var (
		words   []string
		cur     strings.Builder
		inWord  bool
		quote   rune // closing quote we are inside, or 0
		quoteAt int
		escape  bool
	)
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		raw := text[i : i+size] // kept as is: invalid bytes survive
		pos := i
		i += size
		switch {
		case escape:
			cur.WriteString(raw)
			escape = false
		case quote != 0:
			switch {
			case r == quote:
				quote = 0
			case r == '\\' && quote == '"':
				escape = true
			default:
				cur.WriteString(raw)
			}
		case r == '\\':
			escape, inWord = true, true
		case r == '"' || r == '\'' || r == '“' || r == '‘' || r == '”' || r == '’':
			quote, quoteAt, inWord = closing(r), utf8.RuneCountInString(text[:pos]), true
		case unicode.IsSpace(r):
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteString(raw)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("the quote at character %d is not closed; close it or remove it", quoteAt+1)
	}
	if escape {
		cur.WriteRune('\\')
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

func closing(open rune) rune {
	switch open {
	case '“', '”':
		return '”'
	case '‘', '’':
		return '’'
	}
	return open
}

// ParseArgs splits text and sorts the words into positional words,
// key=value parameters (key: a letter, then letters, digits, '_', '-' or
// '.') and --flags. A word after "--" is always positional.
func ParseArgs(text string) (*Args, error) {
	if len(text) > MaxCommandText {
		return nil, fmt.Errorf("the command is %d characters long; the limit is %d", len(text), MaxCommandText)
	}
	words, err := Split(text)
	if err != nil {
		return nil, err
	}
	a := &Args{Params: map[string]string{}, Flags: map[string]string{}, next: map[string]int{}}
	rest := false
	lastFlag := "" // a flag typed without =value, waiting for its word
	for _, w := range words {
		pending := lastFlag
		lastFlag = ""
		switch {
		case rest:
			a.Words = append(a.Words, w)
		case w == "--":
			rest = true
		case strings.HasPrefix(w, "--") || (strings.HasPrefix(w, "—") && len(w) > len("—")):
			// "—" is what chat clients make of a typed "--".
			name := strings.TrimPrefix(strings.TrimPrefix(w, "--"), "—")
			name, value, hasValue := strings.Cut(name, "=")
			name = strings.ToLower(name)
			if !isName(name) {
				return nil, fmt.Errorf("%q is not a flag; flags look like --public or --limit=5", w)
			}
			if _, dup := a.Flags[name]; !dup {
				a.FlagOrder = append(a.FlagOrder, name)
			}
			a.Flags[name] = value
			a.next[name] = -1
			if !hasValue {
				lastFlag = name
			}
		default:
			if k, v, ok := strings.Cut(w, "="); ok && isName(k) {
				k = strings.ToLower(k)
				if _, dup := a.Params[k]; !dup {
					a.ParamOrder = append(a.ParamOrder, k)
				}
				a.Params[k] = v
				continue
			}
			if pending != "" {
				a.next[pending] = len(a.Words)
			}
			a.Words = append(a.Words, w)
		}
	}
	return a, nil
}

func isName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case i > 0 && (r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.'):
		default:
			return false
		}
	}
	return true
}

// Quote returns w so that Split gives it back as one word; front doors with
// typed options use it to build the command text.
func Quote(w string) string {
	plain := w != "" && !strings.ContainsFunc(w, func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune("\"'\\“”‘’", r)
	})
	if plain {
		return w
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(w) + `"`
}
