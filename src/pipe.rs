//! A closed stdout ends a command quietly. Rust ignores SIGPIPE, so a write to
//! a pipe whose reader has gone (`trainwreck replay … | head -1`) fails, and
//! `println!` turns that failure into a panic. For the commands that print as
//! filters do (the game, `tasks`, `replay`) the default action is restored: the
//! process ends silently, as `cat` or `grep` would. `--serve` keeps SIGPIPE
//! ignored and handles the error itself, so it can close its recording.

/// Restore the default SIGPIPE action (Unix; elsewhere nothing to do).
pub fn die_quietly_on_broken_pipe() {
    #[cfg(unix)]
    // SAFETY: called once at start-up, before any thread is spawned; setting a
    // signal's disposition to SIG_DFL installs no Rust code as a handler.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
