from hyperpunch.cli import main

raise SystemExit(main())
