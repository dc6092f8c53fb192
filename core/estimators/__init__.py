"""Market signals for the strategy, each O(1) per event and pure (issue 20): the volatility of
mid returns (``volatility``) and the self-exciting intensity of aggressive trade flow per side
(``hawkes``).  Time is passed in; nothing here reads a clock."""
