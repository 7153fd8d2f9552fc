//! /etc/passwd and /etc/group, read directly (no NSS), for user= and chown=.
