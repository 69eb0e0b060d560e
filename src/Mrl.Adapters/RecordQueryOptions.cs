namespace Mrl.Adapters;

/// <summary>What a filtered scan (<see cref="IAdaptiveStore{TKey}.GetAsync(Filter, int, RecordQueryOptions, CancellationToken)"/>) returns besides the filter.</summary>
public sealed record RecordQueryOptions
{
    /// <summary>How many matching records to skip, in the order of <see cref="OrderBy"/>. Default 0.</summary>
    public int Skip { get; init; }

    /// <summary>
    /// The order, most significant key first. Records that tie on every key (or every record, when the list is empty)
    /// come in key order, so that paging with <see cref="Skip"/> is stable.
    /// </summary>
    public IReadOnlyList<SortField> OrderBy { get; init; } = [];

    /// <summary>Whether records carry their full vectors; when false their <see cref="VectorRecord{TKey}.Vector"/> is empty. Default false.</summary>
    public bool IncludeVectors { get; init; }

    /// <summary>
    /// Checks the arguments of a filtered scan, as every store must before it starts one, and returns the options to use
    /// (the defaults for null).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="top"/> is less than 1, or <see cref="Skip"/> is negative.</exception>
    /// <exception cref="ArgumentNullException"><see cref="OrderBy"/> is null.</exception>
    public static RecordQueryOptions Check(int top, RecordQueryOptions? options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        options ??= new RecordQueryOptions();
        ArgumentOutOfRangeException.ThrowIfNegative(options.Skip, nameof(options));
        ArgumentNullException.ThrowIfNull(options.OrderBy, nameof(options));
        return options;
    }
}
