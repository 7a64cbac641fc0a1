// Package console is the terminal front door: `idpbot chat`, a line-based
// REPL speaking the same commands as Slack and Discord, and `idpbot ask`,
// one command for scripts. Replies are rendered as readable plain text;
// buttons become numbered choices.
package console
