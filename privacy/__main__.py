import sys

from privacy.retention import main

if __name__ == "__main__":
    sys.exit(main())
