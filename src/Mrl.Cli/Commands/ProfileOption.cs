using System.CommandLine;
using Mrl.Adapters;

namespace Mrl.Cli.Commands;

/// <summary><c>--profile FILE</c>: search with what <c>mrl tune</c> found, unless an option given on the command line says otherwise.</summary>
internal sealed class ProfileOption
{
    public Option<string?> Profile { get; } = new("--profile")
    {
        Description = "A profile written by `mrl tune`: its prefix, oversampling, ef_search and rerank location (options given explicitly win).",
    };

    public SearchProfile? Load(ParseResult parse) => parse.GetValue(Profile) is { } path ? SearchProfile.Load(path) : null;

    /// <summary>The search options: the profile's, with explicit --k, --oversampling and --rerank applied; the options alone without a profile.</summary>
    /// <exception cref="ArgumentException">The profile was tuned for another layout than the index has.</exception>
    public static SearchOptions Resolve(ParseResult parse, SearchProfile? profile, EmbeddingLayout layout, Option<int> k, Option<int> oversampling, Option<Rerank> rerank)
    {
        if (profile is null)
        {
            return new SearchOptions { K = parse.GetValue(k), Oversampling = parse.GetValue(oversampling), Rerank = parse.GetValue(rerank) };
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
            options = options with { Rerank = parse.GetValue(rerank) };
        }

        return options;
    }
}
