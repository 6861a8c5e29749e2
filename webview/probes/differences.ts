/**
 * Where our generators differ from RULER's (engine/probes/README.md), shown beside every result so scores are
 * read as comparable in trend, not digit for digit, with the published curves.
 */
export const DIFFERENCES_FROM_RULER: readonly string[] = [
  'Essay haystacks are generated essay-like prose (seeded), not Paul Graham\'s essays, which may not be downloaded at run time.',
  'RULER\'s QA tasks (SQuAD, HotpotQA) are replaced by questions about your repository (repo_qa_1, repo_qa_2).',
  'Word lists are our own adjectives and nouns, and an-array-of-english-words where RULER uses its long English list.',
  'CWE\'s worked example is a previous user/assistant turn (RULER concatenates a chat-templated turn).',
  'Needles go at random line fractions (RULER samples line indexes); JSON KV fills each length with pairs instead of HELMET\'s prebuilt files.',
  'ROUGE-1 (the needle grid) is computed without stemming.',
  'The published curves come from RULER\'s README (4K-128K, RULER\'s own data).',
];
