using Mrl.Bench;

namespace Mrl.Cli.Tests;

public sealed class TuneChoiceTests
{
    private static readonly TuneSettings Settings = new(10, 0.95, [64, 128], [2, 8], [40], 0, null, TuneSettings.Tunable);

    private static BenchRow Row(string strategy, int? p, int oversampling, double recall, double qps = 1000)
    {
        var configuration = new BenchConfiguration(strategy, p, oversampling, 40);
        return BenchRow.FromRounds("memory", configuration, [new Measurement(recall, qps, 1, 1, 1, 0, 1, 10, 100, 1)], (null, null), 1000, 256, 10);
    }

    [Fact]
    public void A_lead_within_the_spread_goes_to_the_simpler_configuration()
    {
        var full = new Contender(Row("full", null, 1, 0.99), [1088, 1107, 1050, 1120]);
        var twoPass = new Contender(Row("two-pass", 256, 8, 0.99), [1152, 1090, 1140, 1100]);

        var (chosen, fastest) = TuneChoice.Choose([twoPass, full]);

        Assert.Same(twoPass, fastest);
        Assert.Same(full, chosen);
    }

    [Fact]
    public void A_lead_beyond_the_spread_keeps_the_fastest()
    {
        var full = new Contender(Row("full", null, 1, 0.99), [800, 810, 805, 795]);
        var twoPass = new Contender(Row("two-pass", 256, 8, 0.99), [1150, 1160, 1140, 1155]);

        Assert.Same(twoPass, TuneChoice.Choose([full, twoPass]).Chosen);
    }

    [Fact]
    public void Among_equals_fewer_candidates_win()
    {
        var eight = new Contender(Row("two-pass", 128, 8, 0.99), [1000, 1010]);
        var four = new Contender(Row("two-pass", 128, 4, 0.99), [1005, 995]);
        var database = new Contender(Row("two-pass-db", 128, 2, 0.99), [1008, 1002]);

        Assert.Same(four, TuneChoice.Choose([eight, database, four]).Chosen);
    }

    [Fact]
    public void Two_pass_far_below_a_target_full_met_reports_no_matryoshka_structure()
    {
        BenchRow[] tried = [Row("full", null, 1, 0.97), Row("two-pass", 64, 8, 0.18), Row("two-pass", 128, 8, 0.41), Row("two-pass-db", 128, 2, 0.2)];

        var note = Tuner.NoMatryoshkaStructure(tried, Settings);

        Assert.NotNull(note);
        Assert.StartsWith("No Matryoshka structure: full reached recall 0.9700, but two-pass at the most candidates tried (two-pass p=128 x8 ef=40) only 0.4100.", note, StringComparison.Ordinal);
        Assert.Contains("a plain prefix will not serve this model", note, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_pass_near_the_target_is_not_reported_as_missing_structure()
    {
        BenchRow[] tried = [Row("full", null, 1, 0.97), Row("two-pass", 64, 8, 0.93)];

        Assert.Null(Tuner.NoMatryoshkaStructure(tried, Settings));
    }
}
