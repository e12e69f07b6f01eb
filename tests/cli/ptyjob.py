#!/usr/bin/env python3
"""ptyjob.py TRANSCRIPT STEP... -- COMMAND [ARG...]

Runs COMMAND on a new pseudo-terminal as the foreground job of a parent
that stands in for a shell with job control (so SIGTSTP really stops it:
a job whose parent left the session would be an orphaned process group,
where the kernel discards stop signals), and plays the steps in order:

  expect:TEXT  wait until TEXT shows on the terminal (after what the last
               expect matched); 10 s at most, then "timeout: TEXT" is
               printed and the steps go on
  type:TEXT    type TEXT; \\n in it is Enter
  stop         press the terminal's suspend key (Ctrl-Z), wait until the
               job is stopped; the terminal sends SIGTSTP after it has
               handled what was typed before, and drops the unfinished
               line (as Linux does unless NOFLSH is set)
  cont         send SIGCONT to the job
  signal:NAME  send SIGNAME (INT, TERM...) to the job
  sh:COMMAND   run COMMAND with sh -c, print "sh: exit N in S.SS s"

then waits for the job to end (20 s at most: then it is killed), writes
all the terminal showed to TRANSCRIPT, "[echo on]" or "[echo off]" last
(how the job left the terminal), and prints "exit N" (128 + the signal
when a signal ended it).  Each line it
prints is for the caller to check; its own exit status is 0.
"""
import os
import pty
import select
import signal
import subprocess
import sys
import termios
import time


def job_parent(argv, report):
    """In the pty's session: start the job in a process group of its own,
    in the foreground, and end with its status."""
    job = os.fork()
    if job == 0:
        os.setpgid(0, 0)
        signal.signal(signal.SIGTTOU, signal.SIG_IGN)
        os.tcsetpgrp(0, os.getpgrp())
        signal.signal(signal.SIGTTOU, signal.SIG_DFL)
        os.execvp(argv[0], argv)
    os.write(report, b"%d\n" % job)
    os.close(report)
    while True:
        pid, status = os.waitpid(job, 0)
        if pid == job:
            break
    # How the job left the terminal, shown on it for the caller.
    echo = termios.tcgetattr(0)[3] & termios.ECHO
    os.write(1, b"[echo on]" if echo else b"[echo off]")
    code = os.waitstatus_to_exitcode(status)
    os._exit(128 - code if code < 0 else code)


class Terminal:
    def __init__(self, fd):
        self.fd = fd
        self.seen = b""
        self.mark = 0           # where the next expect starts looking
        self.eof = False

    def pump(self, seconds):
        """Reads what the terminal shows for up to seconds."""
        ready, _, _ = select.select([self.fd], [], [], seconds)
        if not ready:
            return
        try:
            data = os.read(self.fd, 4096)
        except OSError:         # EIO: the last slave descriptor closed
            data = b""
        if not data:
            self.eof = True
        self.seen += data

    def expect(self, text):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not self.eof:
            at = self.seen.find(text, self.mark)
            if at >= 0:
                self.mark = at + len(text)
                return True
            self.pump(0.05)
        at = self.seen.find(text, self.mark)
        if at >= 0:
            self.mark = at + len(text)
            return True
        return False


def stopped(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("T", "t")
    except OSError:
        return False


def signal_job(pid, sig):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        print("gone: the job had already ended", flush=True)


def main():
    args = sys.argv[1:]
    if "--" not in args or len(args) < 3:
        sys.exit(__doc__)
    transcript = args[0]
    steps = args[1:args.index("--")]
    argv = args[args.index("--") + 1:]
    rd, wr = os.pipe()
    pid, master = pty.fork()
    if pid == 0:
        os.close(rd)
        job_parent(argv, wr)
    os.close(wr)
    with os.fdopen(rd) as f:
        job = int(f.readline())
    term = Terminal(master)
    for step in steps:
        kind, _, arg = step.partition(":")
        if kind == "expect":
            if not term.expect(arg.encode()):
                print("timeout: %s" % arg, flush=True)
        elif kind == "type":
            os.write(master, arg.replace("\\n", "\n").encode())
        elif kind == "stop":
            # Through the terminal, not kill(2): the line discipline
            # handles input after the write returns, so a signal sent
            # beside it could overtake what was typed just before.
            os.write(master, termios.tcgetattr(master)[6][termios.VSUSP])
            deadline = time.monotonic() + 5
            while not stopped(job) and time.monotonic() < deadline:
                term.pump(0.02)
            print("stopped" if stopped(job) else "not stopped", flush=True)
        elif kind == "cont":
            signal_job(job, signal.SIGCONT)
        elif kind == "signal":
            signal_job(job, getattr(signal, "SIG" + arg))
            term.pump(0.2)
        elif kind == "sh":
            start = time.monotonic()
            rc = subprocess.call(["sh", "-c", arg])
            print("sh: exit %d in %.2f s" % (rc, time.monotonic() - start),
                  flush=True)
        else:
            sys.exit("ptyjob.py: unknown step %r" % step)
    deadline = time.monotonic() + 20
    status = None
    while status is None and time.monotonic() < deadline:
        term.pump(0.05)
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = os.waitstatus_to_exitcode(st)
    if status is None:
        signal_job(job, signal.SIGKILL)
        signal_job(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        print("killed: the job did not end", flush=True)
    while not term.eof:
        term.pump(0.2)
        if not select.select([master], [], [], 0)[0]:
            break
    with open(transcript, "wb") as f:
        f.write(term.seen)
    print("exit %s" % status, flush=True)


if __name__ == "__main__":
    main()
