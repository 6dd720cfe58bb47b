// Moved to src/testing/ (the @recsys/core/testing entry); kept so tests on in-flight branches still compile.
export * from '../testing/memory-storage.js';
