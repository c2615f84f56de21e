// Moved to src-main/training/; this re-export keeps test files that import it compiling. Delete it once they import from training/.
export * from '../training/training-service';
