"""Sample-quality metrics: FID and KID on a backbone's features, classifier Inception Score, class coverage."""
