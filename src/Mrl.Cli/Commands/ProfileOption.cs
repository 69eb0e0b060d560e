using System.CommandLine;
using Mrl.Adapters;

namespace Mrl.Cli.Commands;

/// <summary><c>--profile FILE</c>: search with what <c>mrl tune</c> found, unless an option given on the command line says otherwise.</summary>
internal sealed class ProfileOption
{
    public Option<string?> Profile { get; } = new("--profile")
    {
        Description = "A profile written by `mrl tune`: its prefix, oversampling, ef_search and strategy (options given explicitly win).",
    };

    /// <summary><c>--strategy</c>: how a search runs, by the names of <see cref="SearchStrategyNames"/>.</summary>
    public static Option<SearchStrategy> CreateStrategyOption() => new("--strategy")
    {
        Description = "two-pass (rerank in process), two-pass-db (rerank in the database), prefix (the prefix alone) or full (the full vectors alone).",
        DefaultValueFactory = _ => SearchStrategy.TwoPass,
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (SearchStrategyNames.TryParse(text, out var strategy))
            {
                return strategy.Value;
            }

            result.AddError($"--strategy: '{TerminalText.Plain(text)}' is not a strategy; use {string.Join(", ", SearchStrategyNames.All)}.");
            return SearchStrategy.TwoPass;
        },
    };

    public SearchProfile? Load(ParseResult parse) => parse.GetValue(Profile) is { } path ? SearchProfile.Load(path) : null;

    /// <summary>The search options: the profile's, with explicit --k, --oversampling and --strategy applied; the options alone without a profile.</summary>
    /// <exception cref="ArgumentException">The profile was tuned for another layout than the index has.</exception>
    public static SearchOptions Resolve(ParseResult parse, SearchProfile? profile, EmbeddingLayout layout, Option<int> k, Option<int> oversampling, Option<SearchStrategy> rerank)
    {
        if (profile is null)
        {
            return new SearchOptions { K = parse.GetValue(k), Oversampling = parse.GetValue(oversampling), Strategy = parse.GetValue(rerank) };
        }

        if (profile.ToLayout() != layout)
        {
            throw new ArgumentException($"The profile was tuned for {profile.ToLayout()}; this index is {layout}. Tune on this index, or index with the profile's prefix.");
        }

        var options = profile.ToSearchOptions(parse.GetResult(k) is { Implicit: false } ? parse.GetValue(k) : null);
        if (parse.GetResult(oversampling) is { Implicit: false })
        {
            options = options with { Oversampling = parse.GetValue(oversampling) };
        }

        if (parse.GetResult(rerank) is { Implicit: false })
        {
            options = options with { Strategy = parse.GetValue(rerank) };
        }

        return options;
    }
}
