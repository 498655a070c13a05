"""Generated stand-ins for tables the benchmarks do not ship: churn tables of two common shapes.

* :func:`churn_table`: a telecom churn table (7,000 customers, 20 columns: an id,
  16 categories of services and contract, tenure, monthly and total charges
  (total = monthly x tenure, missing for new customers), a binary ``Churn``
  driven by the contract, tenure, fibre internet, the payment method and the
  add-on services).
* :func:`bank_table`: a bank churn table (10,000 customers: row number and
  customer id, credit score, country, gender, age, tenure, balance with a spike
  at zero, number of products, card and activity flags, salary, a binary
  ``Exited`` with a non-monotonic effect of age and of the number of products).

Issue 25 row 5 found `trees` untold behind `gmm` on a held-out churn table;
these two reproduce the shapes for ``synthesis_adult.py --tables churn,bank``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def churn_table(n: int = 7000, seed: int = 0) -> pd.DataFrame:
    """A telecom churn table (see the module docstring)."""
    rng = np.random.default_rng(seed)
    senior = (rng.random(n) < 0.16).astype(int)
    partner = rng.random(n) < 0.48
    dependents = rng.random(n) < np.where(partner, 0.5, 0.1)
    contract = np.where(rng.random(n) < 0.55, "Month-to-month", np.where(rng.random(n) < 0.5, "One year", "Two year"))
    base_t = {"Month-to-month": 12, "One year": 36, "Two year": 55}
    tenure = np.clip(np.round(rng.gamma(1.5, pd.Series(contract).map(base_t).to_numpy() / 1.5)), 0, 72).astype(int)
    internet = rng.choice(["DSL", "Fiber optic", "No"], n, p=[0.34, 0.44, 0.22])
    phone = rng.random(n) < 0.9
    multiple = np.where(~phone, "No phone service", np.where(rng.random(n) < 0.45 + 0.004 * tenure, "Yes", "No"))
    addons = {}
    for name, p in [("OnlineSecurity", 0.35), ("OnlineBackup", 0.44), ("DeviceProtection", 0.44), ("TechSupport", 0.35),
                    ("StreamingTV", 0.5), ("StreamingMovies", 0.5)]:
        yes = rng.random(n) < p + 0.003 * (tenure - 30) + 0.08 * (contract != "Month-to-month")
        addons[name] = np.where(internet == "No", "No internet service", np.where(yes, "Yes", "No"))
    paperless = rng.random(n) < 0.6 - 0.1 * (internet == "No")
    payment = rng.choice(["Electronic check", "Mailed check", "Bank transfer (automatic)", "Credit card (automatic)"], n,
                         p=[0.34, 0.23, 0.22, 0.21])
    monthly = 20 + phone * (5 + 5 * (multiple == "Yes")) + (internet == "DSL") * 25 + (internet == "Fiber optic") * 50
    monthly = monthly + sum((addons[k] == "Yes") * w for k, w in zip(addons, [5, 5, 5, 5, 10, 10])) + rng.normal(0, 2, n)
    monthly = np.round(np.maximum(monthly, 18.25), 2)
    total = np.round(monthly * tenure * rng.normal(1, 0.03, n), 2)
    logit = (-1.2 + 1.3 * (contract == "Month-to-month") - 0.8 * (contract == "Two year") - 0.045 * tenure
             + 0.9 * (internet == "Fiber optic") - 0.6 * (internet == "No") + 0.6 * (payment == "Electronic check")
             - 0.5 * (addons["OnlineSecurity"] == "Yes") - 0.5 * (addons["TechSupport"] == "Yes")
             + 0.3 * paperless + 0.3 * senior + 0.012 * (monthly - 65) - 0.2 * dependents)
    churn = rng.random(n) < 1 / (1 + np.exp(-logit))
    total = np.where(tenure == 0, np.nan, total)

    def yn(b):
        return np.where(b, "Yes", "No")

    df = pd.DataFrame({"customerID": [f"{rng.integers(1000,9999)}-{''.join(rng.choice(list('ABCDEFGHIJKLMNOPQRSTUVWXYZ'),5))}" for _ in range(n)],
        "gender": rng.choice(["Female", "Male"], n), "SeniorCitizen": senior, "Partner": yn(partner), "Dependents": yn(dependents),
        "tenure": tenure, "PhoneService": yn(phone), "MultipleLines": multiple, "InternetService": internet, **addons,
        "Contract": contract, "PaperlessBilling": yn(paperless), "PaymentMethod": payment, "MonthlyCharges": monthly,
        "TotalCharges": total, "Churn": yn(churn)})
    return df

def bank_table(n: int = 10000, seed: int = 1) -> pd.DataFrame:
    """A bank churn table (see the module docstring)."""
    rng = np.random.default_rng(seed)
    geo = rng.choice(["France", "Germany", "Spain"], n, p=[0.5, 0.25, 0.25])
    gender = rng.choice(["Female", "Male"], n, p=[0.45, 0.55])
    age = np.clip(np.round(18 + rng.gamma(4, 5, n)), 18, 92).astype(int)
    tenure = rng.integers(0, 11, n)
    balance = np.where(rng.random(n) < 0.36 - 0.25 * (geo == "Germany"), 0.0, np.round(rng.normal(120000, 30000, n), 2))
    nprod = np.where(balance > 0, rng.choice([1, 2, 3, 4], n, p=[0.62, 0.33, 0.04, 0.01]), rng.choice([1, 2, 3, 4], n, p=[0.3, 0.66, 0.03, 0.01]))
    card = (rng.random(n) < 0.7).astype(int)
    active = (rng.random(n) < 0.45 + 0.005 * (age - 38)).astype(int)
    salary = np.round(rng.uniform(100, 200000, n), 2)
    score = np.clip(np.round(rng.normal(650, 96, n)), 350, 850).astype(int)
    age_eff = 0.09 * (age - 40) - 0.0025 * np.maximum(age - 55, 0) ** 2
    logit = (-1.9 + age_eff + 0.8 * (geo == "Germany") + 0.5 * (gender == "Female") - 1.0 * active
             + np.select([nprod == 1, nprod == 2, nprod >= 3], [0.3, -1.3, 2.8]) + 0.000002 * balance - 0.0006 * (score - 650))
    exited = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"RowNumber": np.arange(1, n + 1), "CustomerId": rng.permutation(np.arange(15565701, 15565701 + n)),
        "CreditScore": score, "Geography": geo, "Gender": gender, "Age": age, "Tenure": tenure, "Balance": balance,
        "NumOfProducts": nprod, "HasCrCard": card, "IsActiveMember": active, "EstimatedSalary": salary, "Exited": exited})
