// Every fixture owns its throwaway database, so fixtures can run side by side; the server is the
// bottleneck on a 2-core machine, so a few at a time is enough.
[assembly: Parallelizable(ParallelScope.Fixtures)]
[assembly: LevelOfParallelism(3)]

// The tests drive the runner, pg_dump and file modes the way they run in production: on Unix.
[assembly: System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
