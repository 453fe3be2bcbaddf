/** Where the investigation benchmark's dataset lives by default, and the file naming its investigations. */
export const DEFAULT_DATASET_PATH = '/tmp/soc-bench-investigations';
export const MANIFEST = 'investigation-bench.json';
