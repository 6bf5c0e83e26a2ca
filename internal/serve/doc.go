// Package serve is the SSH server of `audittui serve`: the TUI, and
// nothing else, for the keys in an OpenSSH authorized_keys file, over one
// shared index.
//
// Who gets in (authkeys.go, hostkey.go): public-key authentication only,
// against AuthorizedKeys, which reads the file again whenever its size,
// modification time or inode changed (checked at each login). The server
// offers no other method. The host key is generated (ed25519, 0600) on
// first start and reused.
//
// What they get (server.go): a session channel (at most
// maxChannelsPerConn per connection) whose requests pass an allow list:
// pty-req, window-change, shell, exec and a bounded number of env.
// Subsystems (SFTP), agent and X11 forwarding, signals and anything else
// are refused there; no direct-tcpip channel or tcpip-forward request is
// ever accepted (port forwarding). Those refusals but signals and the like
// are access records (Server.refused: at most maxRefusalsLogged a
// connection). The handler refuses exec (a remote
// command) and a shell without a terminal with a message, then takes a
// place under the limits (limits.go: --max-sessions,
// --max-sessions-per-key).
//
// A session (session.go) is one ui.App over the shared live.Live (the
// index, a Feed.Subscribe waiter and an alerts subscription), with its own
// Options: the write policy of its key (ui.WriteUnder(KeyDir(dataDir,
// fingerprint)) or ui.WritesOff) and an OnAction hook that writes the
// session's filters, commands and exports to the access log. Its
// tea.Program reads the channel through an activity recorder (the idle
// timeout) and writes to it through a stall recorder: a client that stops
// reading blocks only its own program's writes, and the watchdog drops its
// connection after StallTimeout. The end of its input (the client closed
// the channel, or the connection went) ends it; so does its key leaving
// the authorized keys for removedGrace (AuthorizedKeys.Removed, checked by
// the watchdog). Window sizes are clamped (ClampWindow) and resize storms
// coalesced to one pending size.
//
// The access log (accesslog.go) is JSON lines written by one goroutine in
// order; a record is never dropped (Log waits when a large backlog built
// up; a failed write goes to the server's log with the record).
package serve
