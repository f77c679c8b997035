from gpbench.cli import main

raise SystemExit(main())
