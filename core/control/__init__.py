"""The control socket (issue 18): a headless engine serves consoles that attach and detach.

    protocol  versioned, length-prefixed msgpack messages
    views     ``ConsoleView`` as plain data and back, typed
    paths     where sockets live; the checks that keep them private (D21)
    server    the engine's side, on the runner's loop: conflated views, actions, refusals
    client    the console's side: a reader thread, ``operate`` from any thread

The shell's, like the runner it serves: the pure core never imports it.
"""
