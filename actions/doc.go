// Package actions owns idpbot's self-service actions: their definitions as
// code (`kind: Action` YAML), input validation, who may run and who may
// approve them, the run state machine persisted in the catalog's state store
// (every transition one compare-and-set), exactly-once execution with
// recovery after a restart, the notifications a chat front door turns into an
// approval message, and the hash-chained audit log.
//
// It imports only the catalog. Executors live in sub-packages
// (actions/webhook, actions/catalogexec) and plug in through Factory; the
// chat layer plugs in through Notifier; the on-call lookup through OnCall.
//
// Key layout of the state namespaces (JSON values):
//
//	actions/run/<run id>            Run
//	actions/open/<run id>           "" for every run not yet final
//	actions/user/<user ref>/<id>    "" index of runs by requester
//	actions/secret/<run id>         secret inputs, deleted when the run ends
//	actions/outbox/<seq>            audit records not yet in the chain
//	audit/rec/<seq>                 audit Record, hash-chained
//	audit/head                      sequence and hash of the last record
//	audit/ev/<event id>             which outbox events the chain holds
package actions
