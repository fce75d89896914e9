from timergate.cli import main

raise SystemExit(main())
