/** Types of server/build.mjs (plain JavaScript: it runs before anything can compile TypeScript). */
export declare const BUILD_DIR: string;
export declare function freshBuild(dir?: string): string | null;
export declare function buildServer(dir?: string): Promise<{ dir: string; inputs: number; ms: number }>;
