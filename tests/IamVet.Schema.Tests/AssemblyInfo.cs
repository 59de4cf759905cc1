// Every fixture owns its throwaway database, so fixtures can run side by side; the server is the
// bottleneck on a 2-core machine, so a few at a time is enough.
[assembly: Parallelizable(ParallelScope.Fixtures)]
[assembly: LevelOfParallelism(3)]
