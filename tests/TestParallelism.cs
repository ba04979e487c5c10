using NUnit.Framework;

// Fixtures run two at a time; the tests of one fixture run one after another. Most end-to-end tests spend their time
// waiting (a supervisor starting its workers, a graceful stop, a poll), so two fixtures at once take about half the wall
// time on the 2-core box without starving each other. A fixture that measures the whole test process (allocation or
// CPU per request, a timing promise of the system under test) or changes machine-wide state (the package install)
// says [NonParallelizable]: NUnit runs it while nothing else runs. So do the fixtures that time signals against a
// starting or reloading supervisor (StartupTests, ReloadTests, SupervisorTests), and the package acceptance: its
// minutes of `dotnet publish` starved the fixture beside it (a SIGHUP reload not done within its deadline, in CI).
[assembly: Parallelizable(ParallelScope.Fixtures)]
[assembly: LevelOfParallelism(2)]
