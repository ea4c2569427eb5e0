import sys

from datadistill.cli.main import main

sys.exit(main())
