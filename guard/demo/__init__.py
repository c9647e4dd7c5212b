"""Demo 58.com-style job board with fake resumes (:mod:`guard.demo.app`), and the policy it
declares for the guard (:mod:`guard.demo.config`)."""
