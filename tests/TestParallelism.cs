using NUnit.Framework;

// Fixtures run two at a time; the tests of one fixture run one after another. Most end-to-end tests spend their time
// waiting (a supervisor starting its workers, a graceful stop, a poll), so two fixtures at once take about half the wall
// time on the 2-core box without starving each other. A fixture that measures the whole test process (allocation or
// CPU per request, a timing promise of the system under test) or changes machine-wide state (the package install)
// says [NonParallelizable]: NUnit runs it while nothing else runs. The package acceptance (minutes, mostly building
// the packages) runs beside the others on purpose: it touches only its own paths and ports, and alone it would add
// its whole length to the run.
[assembly: Parallelizable(ParallelScope.Fixtures)]
[assembly: LevelOfParallelism(2)]
