import sys

from vidagent.cli import main

sys.exit(main())
