from vidagent.cli import run

run()
