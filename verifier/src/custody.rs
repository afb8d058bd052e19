//! The custody state machine (DESIGN §3), pure: who may record what, given an item's state.
//!
//! The sequencer runs it inside the append transaction, so two concurrent writers can never both
//! release the same item; the offline verifier can replay it over a dossier.

use crate::i18n::Message;
use crate::model::CustodyEventType;
use crate::t;

/// Where an item stands: held, on its way to a recipient, or out of custody for good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustodyStatus {
    /// Held by its holder.
    InCustody,
    /// Released by the holder, not yet acknowledged by the recipient.
    InTransit {
        /// The id of the user the transfer names.
        to: String,
        /// The id of the `transferred` event.
        transfer_event: String,
    },
    /// Returned: out of custody; nothing but a correction may follow.
    Returned,
    /// Destroyed: nothing but a correction may follow.
    Destroyed,
}

impl CustodyStatus {
    /// The status's name: `in_custody`, `in_transit`, `returned` or `destroyed`.
    pub fn as_str(&self) -> &'static str {
        match self {
            CustodyStatus::InCustody => "in_custody",
            CustodyStatus::InTransit { .. } => "in_transit",
            CustodyStatus::Returned => "returned",
            CustodyStatus::Destroyed => "destroyed",
        }
    }
}

/// An item's custody state: its holder and its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustodyState {
    /// The current holder; after a return or destruction, the last one.
    pub holder: String,
    /// Held, in transit, returned or destroyed.
    pub status: CustodyStatus,
}

/// The custody rule an event breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CustodyError {
    /// The actor is not the item's current holder.
    #[error("only the current holder may record this event")]
    NotHolder,
    /// The item was destroyed; only a correction may follow.
    #[error("the item was destroyed: nothing may follow")]
    Destroyed,
    /// The item was returned; only a correction may follow.
    #[error("the item was returned and is out of custody")]
    Returned,
    /// The item is in transit and the event is not the recipient's receipt.
    #[error("the item is in transit: the recipient must first acknowledge receipt")]
    InTransit,
    /// A receipt while no transfer is pending.
    #[error("there is no pending transfer to receive")]
    NoPendingTransfer,
    /// A receipt by someone other than the transfer's recipient.
    #[error("only the recipient named in the pending transfer may receive it")]
    NotRecipient,
    /// A transfer that names no recipient, or the holder.
    #[error("a transfer needs a recipient other than the holder")]
    BadRecipient,
}

impl CustodyError {
    /// The stable code an API answer carries for this refusal.
    pub fn code(&self) -> &'static str {
        match self {
            CustodyError::NotHolder => "not_holder",
            CustodyError::Destroyed => "item_destroyed",
            CustodyError::Returned => "item_returned",
            CustodyError::InTransit => "item_in_transit",
            CustodyError::NoPendingTransfer => "no_pending_transfer",
            CustodyError::NotRecipient => "not_recipient",
            CustodyError::BadRecipient => "bad_recipient",
        }
    }

    /// What a person reads when the node refuses the event.
    pub fn message(&self) -> Message {
        match self {
            CustodyError::NotHolder => t!("custody-not-holder"),
            CustodyError::Destroyed => t!("custody-destroyed"),
            CustodyError::Returned => t!("custody-returned"),
            CustodyError::InTransit => t!("custody-in-transit"),
            CustodyError::NoPendingTransfer => t!("custody-no-pending-transfer"),
            CustodyError::NotRecipient => t!("custody-not-recipient"),
            CustodyError::BadRecipient => t!("custody-bad-recipient"),
        }
    }
}

/// A proposed event, reduced to what the state machine needs.
pub struct ProposedEvent<'a> {
    /// The event's id (a transfer's is kept until its receipt).
    pub event_id: &'a str,
    /// The id of the user recording the event.
    pub actor: &'a str,
    /// The custody event type.
    pub event_type: CustodyEventType,
    /// The recipient, for a transfer.
    pub to_user: Option<&'a str>,
}

impl CustodyState {
    /// The state of a newly registered item: its collector holds it.
    pub fn registered(collector: &str) -> Self {
        Self {
            holder: collector.to_owned(),
            status: CustodyStatus::InCustody,
        }
    }

    /// The state after `ev`, or the rule `ev` breaks.
    pub fn apply(&self, ev: &ProposedEvent<'_>) -> Result<CustodyState, CustodyError> {
        use CustodyEventType as T;
        match (&self.status, ev.event_type) {
            // A correction amends the record; it does not move the item, even after the end.
            (_, T::Corrected) => {
                if ev.actor == self.holder {
                    Ok(self.clone())
                } else {
                    Err(CustodyError::NotHolder)
                }
            }
            (CustodyStatus::Destroyed, _) => Err(CustodyError::Destroyed),
            (CustodyStatus::Returned, _) => Err(CustodyError::Returned),
            (CustodyStatus::InTransit { to, .. }, T::Received) => {
                if ev.actor == to {
                    Ok(CustodyState {
                        holder: to.clone(),
                        status: CustodyStatus::InCustody,
                    })
                } else {
                    Err(CustodyError::NotRecipient)
                }
            }
            // The sender takes back a transfer not yet received: the item stays in its custody.
            (CustodyStatus::InTransit { .. }, T::TransferCancelled) => {
                if ev.actor == self.holder {
                    Ok(CustodyState {
                        holder: self.holder.clone(),
                        status: CustodyStatus::InCustody,
                    })
                } else {
                    Err(CustodyError::NotHolder)
                }
            }
            (CustodyStatus::InTransit { .. }, _) => Err(CustodyError::InTransit),
            (CustodyStatus::InCustody, T::Received | T::TransferCancelled) => {
                Err(CustodyError::NoPendingTransfer)
            }
            (CustodyStatus::InCustody, _) if ev.actor != self.holder => {
                Err(CustodyError::NotHolder)
            }
            (CustodyStatus::InCustody, T::Transferred) => match ev.to_user {
                Some(to) if to != self.holder => Ok(CustodyState {
                    holder: self.holder.clone(),
                    status: CustodyStatus::InTransit {
                        to: to.to_owned(),
                        transfer_event: ev.event_id.to_owned(),
                    },
                }),
                _ => Err(CustodyError::BadRecipient),
            },
            (CustodyStatus::InCustody, T::Returned) => Ok(CustodyState {
                holder: self.holder.clone(),
                status: CustodyStatus::Returned,
            }),
            (CustodyStatus::InCustody, T::Destroyed) => Ok(CustodyState {
                holder: self.holder.clone(),
                status: CustodyStatus::Destroyed,
            }),
            (CustodyStatus::InCustody, _) => Ok(self.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CustodyEventType as T;

    fn ev<'a>(actor: &'a str, t: CustodyEventType, to: Option<&'a str>) -> ProposedEvent<'a> {
        ProposedEvent {
            event_id: "e",
            actor,
            event_type: t,
            to_user: to,
        }
    }

    #[test]
    fn transfer_and_receipt() {
        let s = CustodyState::registered("alice");
        assert_eq!(
            s.apply(&ev("bob", T::Transferred, Some("carol"))),
            Err(CustodyError::NotHolder)
        );
        assert_eq!(
            s.apply(&ev("alice", T::Transferred, Some("alice"))),
            Err(CustodyError::BadRecipient)
        );
        assert_eq!(
            s.apply(&ev("alice", T::Transferred, None)),
            Err(CustodyError::BadRecipient)
        );
        assert_eq!(
            s.apply(&ev("alice", T::Received, None)),
            Err(CustodyError::NoPendingTransfer)
        );
        let t = s.apply(&ev("alice", T::Transferred, Some("bob"))).unwrap();
        assert_eq!(
            t.apply(&ev("alice", T::Examined, None)),
            Err(CustodyError::InTransit)
        );
        assert_eq!(
            t.apply(&ev("carol", T::Received, None)),
            Err(CustodyError::NotRecipient)
        );
        let r = t.apply(&ev("bob", T::Received, None)).unwrap();
        assert_eq!(
            r,
            CustodyState {
                holder: "bob".into(),
                status: CustodyStatus::InCustody
            }
        );
        assert!(r.apply(&ev("bob", T::Examined, None)).is_ok());
        assert_eq!(
            r.apply(&ev("alice", T::Examined, None)),
            Err(CustodyError::NotHolder)
        );
    }

    #[test]
    fn nothing_after_destruction_or_return() {
        let s = CustodyState::registered("alice");
        let d = s.apply(&ev("alice", T::Destroyed, None)).unwrap();
        for t in CustodyEventType::ALL.iter().filter(|t| **t != T::Corrected) {
            assert_eq!(
                d.apply(&ev("alice", *t, Some("bob"))),
                Err(CustodyError::Destroyed),
                "{t}"
            );
        }
        assert!(d.apply(&ev("alice", T::Corrected, None)).is_ok());
        assert_eq!(
            d.apply(&ev("bob", T::Corrected, None)),
            Err(CustodyError::NotHolder)
        );
        let r = s.apply(&ev("alice", T::Returned, None)).unwrap();
        assert_eq!(
            r.apply(&ev("alice", T::Examined, None)),
            Err(CustodyError::Returned)
        );
    }

    #[test]
    fn the_sender_alone_cancels_a_pending_transfer() {
        let s = CustodyState::registered("alice");
        assert_eq!(
            s.apply(&ev("alice", T::TransferCancelled, None)),
            Err(CustodyError::NoPendingTransfer)
        );
        let t = s.apply(&ev("alice", T::Transferred, Some("bob"))).unwrap();
        assert_eq!(
            t.apply(&ev("bob", T::TransferCancelled, None)),
            Err(CustodyError::NotHolder)
        );
        let back = t.apply(&ev("alice", T::TransferCancelled, None)).unwrap();
        assert_eq!(back, s, "the item is in the sender's custody again");
        assert_eq!(
            back.apply(&ev("bob", T::Received, None)),
            Err(CustodyError::NoPendingTransfer)
        );
    }
}
