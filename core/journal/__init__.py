"""The session's memory (issue 17): a journal of every input the maker received and every
batch it returned, exact replay of it, and exports for post-mortems and accounting.

    codec     events, actions and batches as msgpack, and the layout written beside them
    store     the SQLite file: tables, reading it back
    writer    the writer thread: batched, compressed transactions off the engine's loop
    recorder  ``Journal``: what the runner calls after each call into the maker
    meta      the session's facts and the maker's recipe, so replay builds the same maker
    files     where journals live, their names, retention, opening one for a session
    replay    a fresh maker fed the recorded inputs; ``verify`` compares every batch
    export    ``mm-console journal ls | show | fills | orders``

The journal belongs to the shell (it has a thread, files and the wall clock); the pure core
never imports it.  No secret can enter it: the maker never sees a key (D21).
"""
