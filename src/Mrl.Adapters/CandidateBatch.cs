namespace Mrl.Adapters;

/// <summary>The candidates pass 1 returned, best first by prefix score, and how many bytes of vectors it moved.</summary>
/// <param name="Candidates">The candidates.</param>
/// <param name="BytesFetched">Bytes of full-vector data transferred for pass 2; 0 when unknown.</param>
public sealed record CandidateBatch<TKey>(IReadOnlyList<Candidate<TKey>> Candidates, long BytesFetched) where TKey : notnull;
