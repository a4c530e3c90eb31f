"""`python -m bot.cli`: the same command line as `helpdesk` (how `helpdesk serve` starts
its own processes with the interpreter it runs on)."""

from bot.cli import main

main()
